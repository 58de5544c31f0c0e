/**
 * Whose selection a coloured ring is (issue 24, item 7): above each node another participant has
 * selected, a small tag with their name in their colour, like the name beside their cursor. Drawn
 * in flow coordinates at a constant screen size; never part of the design or of an export.
 */
import { memo, useEffect, useState } from 'react'
import { useStore, ViewportPortal } from '@xyflow/react'
import type { Awareness } from 'y-protocols/awareness'
import { participants } from '../presence'

interface Tag {
  node: string
  names: { name: string; color: string }[]
}

function tagsOf(awareness: Awareness): Tag[] {
  const byNode = new Map<string, Tag>()
  for (const p of participants(awareness)) {
    if (p.self) continue
    for (const id of p.selection) {
      const t = byNode.get(id) ?? { node: id, names: [] }
      t.names.push({ name: p.user.name, color: p.user.color })
      byNode.set(id, t)
    }
  }
  return [...byNode.values()]
}

export const SelectionTags = memo(function SelectionTags({ awareness }: { awareness: Awareness }) {
  const [tags, setTags] = useState<Tag[]>([])
  const zoom = useStore((s) => s.transform[2])
  const lookup = useStore((s) => s.nodeLookup)
  useEffect(() => {
    let last = ''
    const update = () => {
      const next = tagsOf(awareness)
      const key = JSON.stringify(next)
      if (key === last) return
      last = key
      setTags(next)
    }
    update()
    awareness.on('change', update)
    return () => awareness.off('change', update)
  }, [awareness])
  if (tags.length === 0) return null
  return (
    <ViewportPortal>
      {tags.map((t) => {
        const n = lookup.get(t.node)
        if (!n) return null
        const { x, y } = n.internals.positionAbsolute
        return (
          <div
            key={t.node}
            className="selection-tags"
            data-testid="selection-tag"
            style={{ transform: `translate(${x}px, ${y}px) scale(${1 / zoom}) translateY(-100%)` }}
          >
            {t.names.map((p) => (
              <span key={p.name + p.color} className="remote-name" style={{ background: p.color }}>
                {p.name}
              </span>
            ))}
          </div>
        )
      })}
    </ViewportPortal>
  )
})
