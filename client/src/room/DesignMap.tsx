/**
 * The canvas's minimap (issue 24, item 9). React Flow's own re-rendered on every frame of a pan and
 * repainted its whole picture (a new `viewBox` each time the view is wider than the design): on a
 * 300-node design, about a third of a pan frame's cost. Here the design's picture is drawn once per
 * change of the design, and a pan only moves two things without React: the picture, as a composited
 * layer (a transform, no repaint), and the view's outline (one path).
 *
 * As React Flow's: the map shows the design and the view together, dims what is outside the view,
 * and dragging on it pans the canvas, the wheel on it zooms.
 */
import { memo, useCallback, useEffect, useMemo, useRef, type PointerEvent, type WheelEvent } from 'react'
import { Panel, useReactFlow, useStoreApi } from '@xyflow/react'
import { NODE_WIDTH, type DesignFlowNode } from '../flow'

const W = 200
const H = 150
/** Margin round the picture, in map pixels (React Flow's `offsetScale`). */
const PAD = 5

interface Box {
  x: number
  y: number
  width: number
  height: number
}

function sizeOf(n: DesignFlowNode): { width: number; height: number } {
  return { width: n.measured?.width ?? NODE_WIDTH, height: n.measured?.height ?? 56 }
}

function designBounds(nodes: DesignFlowNode[]): Box | null {
  if (nodes.length === 0) return null
  let x0 = Infinity
  let y0 = Infinity
  let x1 = -Infinity
  let y1 = -Infinity
  for (const n of nodes) {
    const { width, height } = sizeOf(n)
    x0 = Math.min(x0, n.position.x)
    y0 = Math.min(y0, n.position.y)
    x1 = Math.max(x1, n.position.x + width)
    y1 = Math.max(y1, n.position.y + height)
  }
  return { x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) }
}

const MapNode = memo(function MapNode(p: { x: number; y: number; width: number; height: number; color: string }) {
  return <rect className="react-flow__minimap-node" x={p.x} y={p.y} width={p.width} height={p.height} rx={6} style={{ fill: p.color }} />
})

export const DesignMap = memo(function DesignMap(props: {
  nodes: DesignFlowNode[]
  nodeColor: (n: DesignFlowNode) => string
  ariaLabel: string
}) {
  const { nodes, nodeColor } = props
  const store = useStoreApi()
  const rf = useReactFlow()
  const picture = useRef<HTMLDivElement>(null)
  const mask = useRef<SVGPathElement>(null)
  const bounds = useMemo(() => designBounds(nodes), [nodes])
  // The picture is drawn at the scale that fits the design alone; the view moves and scales it.
  const base = bounds ? Math.max(bounds.width / (W - 2 * PAD), bounds.height / (H - 2 * PAD)) : 1
  /** Flow units per map pixel, as last laid out (for dragging on the map). */
  const scale = useRef(1)

  const layout = useCallback(() => {
    const { transform, width, height } = store.getState()
    const [tx, ty, zoom] = transform
    const view: Box = { x: -tx / zoom, y: -ty / zoom, width: width / zoom, height: height / zoom }
    const all = bounds
      ? {
          x: Math.min(bounds.x, view.x),
          y: Math.min(bounds.y, view.y),
          right: Math.max(bounds.x + bounds.width, view.x + view.width),
          bottom: Math.max(bounds.y + bounds.height, view.y + view.height),
        }
      : { x: view.x, y: view.y, right: view.x + view.width, bottom: view.y + view.height }
    const s = Math.max((all.right - all.x) / (W - 2 * PAD), (all.bottom - all.y) / (H - 2 * PAD)) || 1
    scale.current = s
    // centred in the map, as React Flow's
    const ox = all.x - (W * s - (all.right - all.x)) / 2
    const oy = all.y - (H * s - (all.bottom - all.y)) / 2
    const px = (x: number) => (x - ox) / s
    const py = (y: number) => (y - oy) / s
    if (picture.current && bounds) {
      picture.current.style.transform = `translate(${px(bounds.x)}px, ${py(bounds.y)}px) scale(${base / s})`
    }
    if (mask.current) {
      const r = (v: number) => Math.round(v * 10) / 10
      mask.current.setAttribute(
        'd',
        `M0,0h${W}v${H}h${-W}z M${r(px(view.x))},${r(py(view.y))}h${r(view.width / s)}v${r(view.height / s)}h${r(-view.width / s)}z`,
      )
    }
  }, [store, bounds, base])

  // Every change of the view or of the flow's size: straight to the DOM, no render.
  useEffect(() => {
    layout()
    let last = store.getState()
    return store.subscribe((s) => {
      if (s.transform === last.transform && s.width === last.width && s.height === last.height) return
      last = s
      layout()
    })
  }, [store, layout])

  // Dragging on the map pans the canvas (the view's outline follows the pointer); the wheel zooms.
  const dragFrom = useRef<{ x: number; y: number } | null>(null)
  const onPointerDown = useCallback((e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return
    e.currentTarget.setPointerCapture(e.pointerId)
    dragFrom.current = { x: e.clientX, y: e.clientY }
  }, [])
  const onPointerMove = useCallback(
    (e: PointerEvent<HTMLDivElement>) => {
      const from = dragFrom.current
      if (!from) return
      dragFrom.current = { x: e.clientX, y: e.clientY }
      const { x, y, zoom } = rf.getViewport()
      const k = scale.current * zoom
      void rf.setViewport({ x: x - (e.clientX - from.x) * k, y: y - (e.clientY - from.y) * k, zoom })
    },
    [rf],
  )
  const onPointerUp = useCallback(() => {
    dragFrom.current = null
  }, [])
  const onWheel = useCallback(
    (e: WheelEvent<HTMLDivElement>) => {
      const step = -e.deltaY * (e.deltaMode === 1 ? 0.05 : e.deltaMode ? 1 : 0.002)
      void rf.zoomTo(rf.getZoom() * Math.pow(2, step))
    },
    [rf],
  )

  // In flow coordinates: a moved node re-renders its own rectangle only.
  const rects = useMemo(
    () =>
      nodes.map((n) => {
        const { width, height } = sizeOf(n)
        return <MapNode key={n.id} x={n.position.x} y={n.position.y} width={width} height={height} color={nodeColor(n)} />
      }),
    [nodes, nodeColor],
  )

  return (
    <Panel position="bottom-right" className="react-flow__minimap tb-map" data-testid="rf__minimap">
      <div
        className="tb-map-frame"
        role="img"
        aria-label={props.ariaLabel}
        style={{ width: W, height: H }}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onWheel={onWheel}
      >
        {bounds && (
          <div className="tb-map-picture" ref={picture}>
            <svg
              width={bounds.width / base}
              height={bounds.height / base}
              viewBox={`${bounds.x} ${bounds.y} ${bounds.width} ${bounds.height}`}
              className="react-flow__minimap-svg"
              aria-hidden="true"
            >
              {rects}
            </svg>
          </div>
        )}
        <svg width={W} height={H} className="tb-map-mask" aria-hidden="true">
          <path ref={mask} className="react-flow__minimap-mask" fillRule="evenodd" />
        </svg>
      </div>
    </Panel>
  )
})
