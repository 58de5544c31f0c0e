/** The nodes a clicked tier rule names: highlighted on the canvas and brought into view. */
import { useCallback, useState } from 'react'
import { useReactFlow } from '@xyflow/react'

export interface Highlight {
  /** Which rule is highlighted (`tier/index`), null when none. */
  key: string | null
  nodes: ReadonlySet<string>
}

export function useHighlight(): [Highlight, (key: string | null, nodes: string[]) => void] {
  const rf = useReactFlow()
  const [highlight, setHighlight] = useState<Highlight>({ key: null, nodes: new Set() })
  const onHighlight = useCallback(
    (key: string | null, nodes: string[]) => {
      setHighlight({ key, nodes: new Set(nodes) })
      if (nodes.length) {
        const targets = nodes.map((id) => rf.getNode(id)).filter((n) => n !== undefined)
        if (targets.length) void rf.fitView({ nodes: targets, duration: 300, maxZoom: 1.2, padding: 0.4 })
      }
    },
    [rf],
  )
  return [highlight, onHighlight]
}
