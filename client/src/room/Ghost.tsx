/**
 * The reference design drawn as a ghost over the canvas (issue 21 item 4): outlines of its
 * components and connections in flow coordinates, moving with the viewport, never selectable and
 * never written to the room's document.
 */
import { useEffect } from 'react'
import { ViewportPortal, useReactFlow } from '@xyflow/react'
import type { ReferenceSolution } from '../api'
import type { Catalog } from '../catalog'

const W = 180
const H = 56

export function Ghost({ reference, catalog }: { reference: ReferenceSolution; catalog: Catalog }) {
  const at = new Map(reference.nodes.map((n) => [n.id, n]))
  const rf = useReactFlow()
  // When the ghost appears, bring both it and the design into view.
  useEffect(() => {
    const boxes = [
      ...reference.nodes.map((n) => ({ x: n.x, y: n.y, w: W, h: H })),
      ...rf.getNodes().map((n) => ({ x: n.position.x, y: n.position.y, w: n.measured?.width ?? W, h: n.measured?.height ?? H })),
    ]
    if (boxes.length === 0) return
    const x = Math.min(...boxes.map((b) => b.x))
    const y = Math.min(...boxes.map((b) => b.y))
    const width = Math.max(...boxes.map((b) => b.x + b.w)) - x
    const height = Math.max(...boxes.map((b) => b.y + b.h)) - y
    void rf.fitBounds({ x, y, width, height }, { padding: 0.15, duration: 200 })
  }, [reference, rf])
  return (
    <ViewportPortal>
      <div className="ghost" data-testid="reference-ghost" aria-hidden="true">
        <svg className="ghost-edges" width="1" height="1">
          {reference.edges.map((e) => {
            const a = at.get(e.from)
            const b = at.get(e.to)
            if (!a || !b) return null
            return <line key={e.id} x1={a.x + W} y1={a.y + H / 2} x2={b.x} y2={b.y + H / 2} />
          })}
        </svg>
        {reference.nodes.map((n) => (
          <div key={n.id} className="ghost-node" style={{ transform: `translate(${n.x}px, ${n.y}px)` }}>
            <span>{n.label}</span>
            <small>
              {catalog.name(n.type)}
              {typeof n.params?.instances === 'number' && n.params.instances > 1 ? ` × ${n.params.instances}` : ''}
            </small>
          </div>
        ))}
      </div>
    </ViewportPortal>
  )
}
