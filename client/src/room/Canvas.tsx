/**
 * The design canvas: React Flow bound to the room's Yjs document through the accessors of
 * ../schema.ts, with presence (pointer, selection, viewport) published to awareness.
 */
import { memo, useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type DragEvent, type ReactNode } from 'react'
import {
  Background,
  BackgroundVariant,
  ConnectionMode,
  ControlButton,
  Controls,
  ReactFlow,
  ViewportPortal,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  useStore,
  useStoreApi,
  type Connection,
  type Edge,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
  type OnConnectStartParams,
  type OnSelectionChangeParams,
  type Viewport,
} from '@xyflow/react'
import type * as Y from 'yjs'
import type { Awareness } from 'y-protocols/awareness'
import {
  allEdges,
  allNodes,
  observeDesign,
  patchEdges,
  patchNodes,
  redecorate,
  redecorateEdges,
  type DesignFlowNode,
  type EdgeDecor,
  type NodeDecor,
  type RuleMark,
} from '../flow'
import { NO_HEAT, NO_MARKS, type CanvasHeat } from './heat'
import { HeatLegend } from './HeatLegend'
import { participants, readPresence, type Participant } from '../presence'
import { addEdge, addNode, deleteElements, LOCAL_ORIGIN, moveNodes, NOTE_TYPE, root } from '../schema'
import { nodeTypes } from './nodes'
import { edgeTypes } from './edges'
import { snapToGuides, type Guide } from './guides'
import { SelectionTags } from './SelectionTags'
import { DesignMap } from './DesignMap'
import { isTyping } from './useShortcuts'
import './canvas.css'
import { familyColor } from '../icons'
import type { Catalog } from '../catalog'
import { useTheme } from '../theme'

export const DRAG_MIME = 'application/x-tierboard-type'
const SNAP_GRID: [number, number] = [16, 16]
const FIT_OPTIONS = { maxZoom: 1.2, padding: 0.2 }
const PRO_OPTIONS = { hideAttribution: true }
const DELETE_KEYS = ['Delete', 'Backspace']
const MULTI_KEYS = ['Shift', 'Meta', 'Control']
/** Middle and right button pan in the select tool, as in Excalidraw and tldraw (Space + drag too). */
const PAN_BUTTONS = [1, 2]
/** How close (in screen pixels) a moved node's edge or centre must come to another's to snap to it. */
const GUIDE_SNAP_PX = 6
/** Above this many nodes only the visible ones are rendered and a drag does not auto-pan. */
const BIG_DESIGN = 150
/** Below this zoom a node's text is a few pixels high: nodes are drawn as boxes (canvas.css, `tb-far`). */
const FAR_ZOOM = 0.35

export interface CanvasProps {
  doc: Y.Doc
  awareness: Awareness
  catalog: Catalog
  readOnly: boolean
  snap: boolean
  highlight: ReadonlySet<string>
  follow: number | null
  onStopFollow: () => void
  onSelection: (nodes: string[], edges: string[]) => void
  /** Drawn in flow coordinates above the design and never part of it (the reference's ghost). */
  overlay?: ReactNode
  /** The capacity simulation drawn on the design: node heat and edge widths. */
  heat?: CanvasHeat
  /** Says what the heat shows ("peak", "3× peak, App 1 failed"). */
  heatCaption?: string
  /** Nodes named by failing tier rules, marked on the canvas. */
  failing?: Map<string, RuleMark>
}

function sameGuides(a: Guide[], b: Guide[]): boolean {
  return a.length === b.length && a.every((g, i) => g.axis === b[i].axis && g.at === b[i].at && g.from === b[i].from && g.to === b[i].to)
}

/** The alignment guides of the node being moved, for the one component that draws them. */
class GuideStore {
  private guides: Guide[] = []
  private listeners = new Set<() => void>()
  get = (): Guide[] => this.guides
  subscribe = (f: () => void): (() => void) => {
    this.listeners.add(f)
    return () => this.listeners.delete(f)
  }
  set(next: Guide[]): void {
    if (sameGuides(this.guides, next)) return
    this.guides = next
    this.listeners.forEach((f) => f())
  }
}

/** Calls f at most once per `ms`, always with the latest arguments (trailing call kept). */
function throttle<A extends unknown[]>(ms: number, f: (...a: A) => void): (...a: A) => void {
  let last = 0
  let timer: ReturnType<typeof setTimeout> | null = null
  let args: A | null = null
  return (...a: A) => {
    args = a
    const now = Date.now()
    if (now - last >= ms) {
      last = now
      f(...a)
    } else if (!timer) {
      timer = setTimeout(
        () => {
          timer = null
          last = Date.now()
          if (args) f(...args)
        },
        ms - (now - last),
      )
    }
  }
}

function remoteSelections(awareness: Awareness): Map<string, string[]> {
  const out = new Map<string, string[]>()
  awareness.getStates().forEach((s, id) => {
    if (id === awareness.clientID) return
    const p = readPresence(s)
    if (!p) return
    for (const n of p.selection) {
      const list = out.get(n) ?? []
      list.push(p.user.color)
      out.set(n, list)
    }
  })
  return out
}

export const Canvas = memo(function Canvas(props: CanvasProps) {
  const { doc, awareness, readOnly, highlight, snap } = props
  const heat = props.heat ?? NO_HEAT
  const rf = useReactFlow()
  const [theme] = useTheme()
  const remoteRef = useRef<Map<string, string[]>>(new Map())
  const highlightRef = useRef(highlight)
  const heatRef = useRef(heat)
  const failing = props.failing ?? NO_MARKS
  const failingRef = useRef(failing)
  const decorOf = useCallback((id: string): NodeDecor => {
    const remote = remoteRef.current.get(id)
    const hl = highlightRef.current.has(id)
    const h = heatRef.current.nodes.get(id)
    const f = failingRef.current.get(id)
    return hl || remote || h || f ? { highlight: hl || undefined, remote, heat: h, failing: f } : {}
  }, [])
  const flowOf = useCallback((id: string): EdgeDecor | undefined => heatRef.current.edges.get(id), [])
  const [nodes, setNodes] = useState<DesignFlowNode[]>(() => allNodes(doc, decorOf))
  // Fit the view on first render only to a design that is already there. React Flow's `fitView`
  // would otherwise fit on the first node an empty room gets: the first drop jumped to the centre
  // at 120 % zoom and the next drops landed on top of it (issue 24, item 3).
  const [fitOnInit] = useState(() => root(doc).nodes.size > 0)
  // The guides shown live outside the canvas's state: they change many times during a drag, and a
  // render of the canvas walks React Flow's whole tree (300 nodes and edges) for nothing.
  const [guides] = useState(() => new GuideStore())
  const [connecting, setConnecting] = useState(false)
  // The tools of Excalidraw and tldraw (issue 24, item 3): with the select tool a drag on the empty
  // canvas selects with a box, and the canvas pans with Space + drag, the middle or right button or
  // the hand tool (H); V goes back. A viewer has nothing to select for editing: the hand by default.
  const [hand, setHand] = useState(readOnly)
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return
      const k = e.key.toLowerCase()
      if (k === 'h') setHand(true)
      else if (k === 'v') setHand(false)
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])
  const [edges, setEdges] = useState<Edge[]>(() => allEdges(doc, flowOf))

  // Yjs → React Flow, touching only the changed entries. The design usually arrives after the
  // first render (from IndexedDB or the server): fit it in view the first time it does.
  useEffect(() => {
    setNodes(allNodes(doc, decorOf))
    setEdges(allEdges(doc, flowOf))
    let fitted = root(doc).nodes.size > 0
    return observeDesign(doc, (d, origin) => {
      if (d.nodes.size) setNodes((prev) => patchNodes(doc, prev, d.nodes, decorOf))
      if (d.edges.size) setEdges((prev) => patchEdges(doc, prev, d.edges, flowOf))
      // Only the design's first arrival: once there are nodes (even one's own) the view is the user's.
      if (!fitted && root(doc).nodes.size > 0) {
        fitted = true
        if (origin !== LOCAL_ORIGIN) setTimeout(() => void rf.fitView({ maxZoom: 1, padding: 0.2 }), 50)
      }
    })
  }, [doc, decorOf, flowOf, rf])

  useEffect(() => {
    highlightRef.current = highlight
    setNodes((prev) => redecorate(prev, decorOf))
  }, [highlight, decorOf])

  // A new validation result: only the nodes whose rule marks changed get new objects.
  useEffect(() => {
    failingRef.current = failing
    setNodes((prev) => redecorate(prev, decorOf))
  }, [failing, decorOf])

  // A new simulation result: only the nodes and edges whose figures changed get new objects.
  useEffect(() => {
    heatRef.current = heat
    setNodes((prev) => redecorate(prev, decorOf))
    setEdges((prev) => redecorateEdges(prev, flowOf))
  }, [heat, decorOf, flowOf])

  // Other people's selections, outlined in their colour.
  useEffect(() => {
    const update = () => {
      const next = remoteSelections(awareness)
      const key = (m: Map<string, string[]>) => JSON.stringify([...m].sort())
      if (key(next) === key(remoteRef.current)) return
      remoteRef.current = next
      setNodes((prev) => redecorate(prev, decorOf))
    }
    update()
    awareness.on('change', update)
    return () => awareness.off('change', update)
  }, [awareness, decorOf])

  // Dragging moves the node locally every frame but writes positions to the document at most every
  // 40 ms (and at the end of the drag): each write is a Yjs update, an IndexedDB write and a message
  // to everyone, so a per-frame write would cost every participant on a large design.
  const pendingMoves = useRef(new Map<string, { x: number; y: number }>())
  const frame = useRef<ReturnType<typeof setTimeout> | null>(null)
  const flushMoves = useCallback(() => {
    if (frame.current !== null) clearTimeout(frame.current)
    frame.current = null
    if (pendingMoves.current.size === 0) return
    const moves = [...pendingMoves.current]
    pendingMoves.current.clear()
    moveNodes(doc, moves)
  }, [doc])

  // A drag's moves go straight into React Flow's store, not through the controlled `nodes` array
  // (issue 24, item 9): each new array made React Flow re-adopt every node and the canvas and the
  // minimap render again, 10 ms of a frame on a 300-node design with all of it in view. The drag's
  // first change (it marks the node as dragging, which keeps the document's 40 ms position writes
  // off the canvas, ../flow.ts `patchNodes`) and its last (the exact final position) go through the
  // array as any other change; in between the store holds the moved node and the array keeps the
  // node as it was when the drag began. React Flow re-adopts a node only when its object changes,
  // so a render of the array mid-drag leaves the moved node where the store has it.
  const store = useStoreApi<DesignFlowNode, Edge>()
  const dragging = useRef(new Set<string>())
  /** The other nodes' boxes for the alignment guides, taken once per drag (they do not move). */
  const guideBoxes = useRef<{ id: string; boxes: { x: number; y: number; width: number; height: number }[] } | null>(null)
  const moveInStore = useCallback(
    (moves: { id: string; position: { x: number; y: number } }[]) => {
      const s = store.getState()
      for (const m of moves) {
        const n = s.nodeLookup.get(m.id)
        if (!n) continue
        // design nodes have no parents: the absolute position is the position
        s.nodeLookup.set(m.id, { ...n, position: m.position, internals: { ...n.internals, positionAbsolute: m.position } })
      }
      // the same lookup, changed in place as React Flow's own updates do: one notification
      store.setState({ nodeLookup: s.nodeLookup })
    },
    [store],
  )

  const onNodesChange = useCallback(
    (changes: NodeChange<DesignFlowNode>[]) => {
      const local: NodeChange<DesignFlowNode>[] = []
      const removed: string[] = []
      const inStore: { id: string; position: { x: number; y: number } }[] = []
      let dragEnded = false
      // Dragged nodes: a single node lines up with the others when it comes close (alignment
      // guides, from the pointer's own position); an axis without a guide snaps to the grid when
      // that is on. The drag's last change (dragging: false) carries the raw position again.
      const drags = changes.filter(
        (c): c is Extract<NodeChange<DesignFlowNode>, { type: 'position' }> =>
          c.type === 'position' && c.dragging !== undefined && !!c.position,
      )
      if (drags.length > 0 && !readOnly) {
        let shown: Guide[] = []
        if (drags.length === 1) {
          const c = drags[0]
          const me = store.getState().nodeLookup.get(c.id)
          if (me && c.position) {
            const size = (n: { measured?: { width?: number; height?: number } }) => ({
              width: n.measured?.width ?? 0,
              height: n.measured?.height ?? 0,
            })
            if (guideBoxes.current?.id !== c.id) {
              const others = rf.getNodes().filter((n) => n.id !== c.id && !n.selected)
              guideBoxes.current = { id: c.id, boxes: others.map((n) => ({ ...n.position, ...size(n) })) }
            }
            const others = guideBoxes.current.boxes
            const snapped = snapToGuides({ ...c.position, ...size(me) }, others, GUIDE_SNAP_PX / rf.getZoom())
            c.position = { x: snapped.x, y: snapped.y }
            shown = snapped.guides
          }
        }
        if (snap) {
          const guided = new Set(shown.map((g) => g.axis))
          for (const c of drags) {
            const [gx, gy] = SNAP_GRID
            c.position = {
              x: guided.has('x') ? c.position!.x : Math.round(c.position!.x / gx) * gx,
              y: guided.has('y') ? c.position!.y : Math.round(c.position!.y / gy) * gy,
            }
          }
        }
        const next = drags.some((c) => c.dragging) ? shown : []
        // the same guides as the last frame keep their array: no render of the guides layer
        guides.set(next)
      }
      for (const c of changes) {
        if (c.type === 'remove') {
          removed.push(c.id)
          continue
        }
        if (c.type === 'position' && c.position && !readOnly) {
          pendingMoves.current.set(c.id, { x: Math.round(c.position.x), y: Math.round(c.position.y) })
          if (c.dragging === false) {
            dragEnded = true
            dragging.current.delete(c.id)
          } else if (c.dragging && dragging.current.has(c.id)) {
            inStore.push({ id: c.id, position: c.position })
            continue
          } else if (c.dragging) dragging.current.add(c.id)
        }
        local.push(c)
      }
      if (dragEnded) guideBoxes.current = null
      if (inStore.length) moveInStore(inStore)
      if (local.length) setNodes((prev) => applyNodeChanges(local, prev))
      if (removed.length && !readOnly) deleteElements(doc, removed)
      if (dragEnded) flushMoves()
      else if (pendingMoves.current.size && frame.current === null) frame.current = setTimeout(flushMoves, 40)
    },
    [doc, readOnly, flushMoves, rf, snap, store, moveInStore, guides],
  )

  const onEdgesChange = useCallback(
    (changes: EdgeChange[]) => {
      const removed = changes.filter((c) => c.type === 'remove').map((c) => c.id)
      const local = changes.filter((c) => c.type !== 'remove')
      if (local.length) setEdges((prev) => applyEdgeChanges(local, prev))
      if (removed.length && !readOnly) deleteElements(doc, [], removed)
    },
    [doc, readOnly],
  )

  // An edge points from the node where the drag started to the one where it ended, whichever handles
  // were used (React Flow's loose mode reverses a drag that starts on a left, "target" handle).
  const startedAt = useRef<string | null>(null)
  const onConnect = useCallback(
    (c: Connection) => {
      if (readOnly || !c.source || !c.target) return
      if (c.target === startedAt.current) addEdge(doc, c.target, c.source)
      else addEdge(doc, c.source, c.target)
    },
    [doc, readOnly],
  )

  // A connection dropped anywhere on another node's body (not only on a handle) connects to it.
  const onConnectStart = useCallback((_e: unknown, p: OnConnectStartParams) => {
    startedAt.current = p.nodeId
    setConnecting(true)
  }, [])
  const onConnectEnd = useCallback(
    (e: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      setConnecting(false)
      startedAt.current = null
      if (readOnly || state.isValid || !state.fromNode) return
      const p = 'changedTouches' in e ? e.changedTouches[0] : e
      if (!p) return
      const el = document.elementFromPoint(p.clientX, p.clientY)?.closest<HTMLElement>('.react-flow__node')
      const to = el?.dataset.id
      if (!to || to === state.fromNode.id || el.classList.contains('react-flow__node-note')) return
      addEdge(doc, state.fromNode.id, to)
    },
    [doc, readOnly],
  )

  const { onSelection } = props
  const onSelectionChange = useCallback(
    ({ nodes: ns, edges: es }: OnSelectionChangeParams) => {
      const ids = ns.map((n) => n.id)
      awareness.setLocalStateField('selection', ids)
      onSelection(
        ids,
        es.map((e) => e.id),
      )
    },
    [awareness, onSelection],
  )

  const onDragOver = useCallback((e: DragEvent) => {
    if (e.dataTransfer.types.includes(DRAG_MIME)) {
      e.preventDefault()
      e.dataTransfer.dropEffect = 'copy'
    }
  }, [])

  const { catalog } = props
  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DRAG_MIME)
      if (!type || readOnly) return
      e.preventDefault()
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY })
      addNode(doc, {
        type,
        label: type === NOTE_TYPE ? '' : catalog.name(type),
        x: Math.round(p.x - 90),
        y: Math.round(p.y - 28),
      })
    },
    [doc, rf, readOnly, catalog],
  )

  // Presence: pointer in flow coordinates and the viewport, throttled.
  const publishCursor = useMemo(
    () => throttle(50, (c: { x: number; y: number } | null) => awareness.setLocalStateField('cursor', c)),
    [awareness],
  )
  const publishViewport = useMemo(() => throttle(100, (v: Viewport) => awareness.setLocalStateField('viewport', v)), [awareness])
  useEffect(() => {
    awareness.setLocalStateField('selection', [])
    awareness.setLocalStateField('cursor', null)
  }, [awareness])

  const { follow, onStopFollow } = props
  useEffect(() => {
    if (follow === null) return
    let last = ''
    const apply = () => {
      const p = readPresence(awareness.getStates().get(follow))
      if (!p) {
        onStopFollow()
        return
      }
      if (!p.viewport) return
      const key = JSON.stringify(p.viewport)
      if (key === last) return
      last = key
      void rf.setViewport(p.viewport, { duration: 150 })
    }
    apply()
    awareness.on('change', apply)
    return () => awareness.off('change', apply)
  }, [follow, awareness, rf, onStopFollow])

  const nodeColor = useCallback(
    (n: DesignFlowNode) => (n.type === 'note' ? familyColor('note') : familyColor(catalog.get(n.data.node.type)?.family)),
    [catalog],
  )
  const onMove = useCallback((_e: unknown, v: Viewport) => publishViewport(v), [publishViewport])
  const onInit = useCallback((inst: { getViewport: () => Viewport }) => publishViewport(inst.getViewport()), [publishViewport])
  // While the view moves, the viewport is its own compositor layer: a pan then moves pixels already
  // drawn instead of repainting every node (issue 24, item 9). Only while moving: a layer kept
  // through a zoom would show blurred text. A class on the element, not state: no React render.
  const canvasRef = useRef<HTMLDivElement>(null)
  const onMoveStart = useCallback(
    (e: unknown) => {
      // Only a move by the user: the view also moves by itself, a frame at a time, while a node is
      // dragged near the canvas's side (auto-pan), and a layer made and dropped on each of those
      // frames repainted the whole design each time.
      if (!e) return
      canvasRef.current?.classList.add('tb-moving')
      if (follow !== null) onStopFollow()
    },
    [follow, onStopFollow],
  )
  const onMoveEnd = useCallback(() => canvasRef.current?.classList.remove('tb-moving'), [])
  // Far out, nodes are drawn as boxes: a class on the element as the zoom crosses the threshold, so
  // that no node re-renders (their text and icons are hidden by CSS, sizes unchanged).
  useEffect(() => {
    let far: boolean | null = null
    const apply = (zoom: number) => {
      const next = zoom < FAR_ZOOM
      if (next === far) return
      far = next
      canvasRef.current?.classList.toggle('tb-far', next)
    }
    apply(store.getState().transform[2])
    return store.subscribe((s) => apply(s.transform[2]))
  }, [store])
  const toggleHand = useCallback(() => setHand((h) => !h), [])
  const onPointerMove = useCallback(
    (e: React.PointerEvent) => publishCursor(rf.screenToFlowPosition({ x: e.clientX, y: e.clientY })),
    [publishCursor, rf],
  )
  const onPointerLeave = useCallback(() => publishCursor(null), [publishCursor])
  // A pan holds the pointer: the browser then sends each move to the pane without hit testing every
  // node and edge under the pointer (a few milliseconds per move on a 300-node design), and no node
  // flickers into hover as it passes under the pointer.
  const onPointerDownCapture = useCallback(
    (e: React.PointerEvent) => {
      const t = e.target as Element
      // the middle button pans from anywhere on the canvas; the right one and the hand tool from the pane
      const pans = e.button === 1 || (t.classList?.contains('react-flow__pane') && (hand || PAN_BUTTONS.includes(e.button)))
      if (pans && t.closest('.react-flow__renderer')) t.setPointerCapture(e.pointerId)
    },
    [hand],
  )

  return (
    <div
      className="canvas"
      ref={canvasRef}
      onPointerMove={onPointerMove}
      onPointerLeave={onPointerLeave}
      onPointerDownCapture={onPointerDownCapture}
    >
      <ReactFlow<DesignFlowNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        className={connecting ? 'tb-connecting' : undefined}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectStart={onConnectStart}
        onConnectEnd={onConnectEnd}
        onSelectionChange={onSelectionChange}
        onDragOver={onDragOver}
        onDrop={onDrop}
        onMove={onMove}
        onInit={onInit}
        onMoveStart={onMoveStart}
        onMoveEnd={onMoveEnd}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        edgesReconnectable={false}
        deleteKeyCode={readOnly ? null : DELETE_KEYS}
        multiSelectionKeyCode={MULTI_KEYS}
        selectionKeyCode="Shift"
        selectionOnDrag={!hand}
        panOnDrag={hand ? true : PAN_BUTTONS}
        connectionMode={ConnectionMode.Loose}
        // The grid is applied in onNodesChange, after the alignment guides (which take precedence).
        snapToGrid={false}
        colorMode={theme}
        fitView={fitOnInit}
        fitViewOptions={FIT_OPTIONS}
        minZoom={0.1}
        maxZoom={2.5}
        onlyRenderVisibleElements={nodes.length > BIG_DESIGN}
        // Auto-pan (the view following a node dragged to the canvas's side) repaints the whole
        // design on each of its frames: 25–40 ms on 300 nodes, the slowest frames of a drag (issue
        // 24, item 9). On a big design a drag stays in the view, as in Excalidraw; pan and drag on.
        autoPanOnNodeDrag={nodes.length <= BIG_DESIGN}
        proOptions={PRO_OPTIONS}
        aria-label="Design canvas"
      >
        <DotGrid />
        <CanvasControls hand={hand} onToggleHand={toggleHand} />
        <DesignMap nodes={nodes} nodeColor={nodeColor} ariaLabel="Minimap" />
        <RemoteCursors awareness={awareness} />
        <SelectionTags awareness={awareness} />
        <Guides store={guides} />
        {props.overlay}
      </ReactFlow>
      {(heat.nodes.size > 0 || failing.size > 0) && (
        <HeatLegend caption={props.heatCaption} heat={heat.nodes.size > 0} rules={failing.size > 0} />
      )}
      {nodes.length === 0 && (
        <div className="canvas-empty" aria-hidden="true">
          {readOnly
            ? 'Nothing drawn yet.'
            : 'Drag a component from the palette (or click it) to start. Connect two components by dragging from a dot on the side of one onto the other. Drag on the canvas to select with a box; Space + drag (or the hand tool, H) pans.'}
        </div>
      )}
    </div>
  )
})

/** The zoom controls and the hand tool; memoised: the canvas re-renders on every frame of a drag. */
const CanvasControls = memo(function CanvasControls({ hand, onToggleHand }: { hand: boolean; onToggleHand: () => void }) {
  return (
    <Controls showInteractive={false} aria-label="Zoom controls">
      <ControlButton
        onClick={onToggleHand}
        aria-pressed={hand}
        aria-label={hand ? 'Hand tool: drag pans (V to select)' : 'Select tool: drag selects (H to pan)'}
        title={hand ? 'Hand tool (H): drag pans. V: select tool' : 'Select tool (V): drag selects. H or Space + drag: pan'}
        className={hand ? 'tb-tool-hand on' : 'tb-tool-hand'}
        data-testid="hand-tool"
      >
        <svg
          width="14"
          height="14"
          viewBox="0 0 24 24"
          aria-hidden="true"
          fill="none"
          stroke="currentColor"
          strokeWidth="2"
          strokeLinecap="round"
        >
          <path d="M8 13V5.5a1.5 1.5 0 0 1 3 0V12M11 11.5v-8a1.5 1.5 0 0 1 3 0V12M14 11.5v-6a1.5 1.5 0 0 1 3 0V13M17 9.5a1.5 1.5 0 0 1 3 0V15a7 7 0 0 1-7 7h-1a7 7 0 0 1-5.2-2.4L4 16.5a1.6 1.6 0 0 1 2.3-2.2L8 16" />
        </svg>
      </ControlButton>
    </Controls>
  )
})

/** Other participants' pointers with their names, drawn in flow coordinates at a constant size. */
const RemoteCursors = memo(function RemoteCursors({ awareness }: { awareness: Awareness }) {
  const zoom = useStore((s) => s.transform[2])
  const [people, setPeople] = useState<Participant[]>([])
  useEffect(() => {
    // Awareness changes on every viewport or selection publish too: re-render only when a pointer
    // moved, someone came or left, or a name or colour changed.
    let last = ''
    const update = () => {
      const next = participants(awareness).filter((p) => !p.self && p.cursor)
      const key = JSON.stringify(next.map((p) => [p.clientID, p.cursor, p.user.name, p.user.color]))
      if (key === last) return
      last = key
      setPeople(next)
    }
    update()
    awareness.on('change', update)
    return () => awareness.off('change', update)
  }, [awareness])
  // no portal at all when nobody else points: its store subscription runs on every frame of a pan
  if (people.length === 0) return null
  return (
    <ViewportPortal>
      {people.map((p) => (
        <div
          key={p.clientID}
          className="remote-cursor"
          data-testid="remote-cursor"
          style={{ transform: `translate(${p.cursor!.x}px, ${p.cursor!.y}px) scale(${1 / zoom})`, color: p.user.color }}
        >
          <svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true">
            <path d="M1 1l6 15 2-6 6-2z" fill="currentColor" stroke="white" strokeWidth="1.2" />
          </svg>
          <span className="remote-name" style={{ background: p.user.color }}>
            {p.user.name}
          </span>
        </div>
      ))}
    </ViewportPortal>
  )
})

/**
 * The dot grid, only where it helps: zoomed out below 40 % its dots are under 7 px apart, a grey
 * haze that the browser repainted on every frame of a pan (thousands of dots; the largest cost of
 * panning a big design fitted in view, issue 24, item 9). tldraw and Excalidraw drop it too. Renders
 * again only when the zoom crosses the threshold.
 */
const DotGrid = memo(function DotGrid() {
  const shown = useStore((s) => s.transform[2] >= 0.4)
  return shown ? <Background variant={BackgroundVariant.Dots} gap={16} size={1.2} /> : null
})

/** The alignment guides of the node being moved, in flow coordinates, one pixel wide on screen. */
const Guides = memo(function Guides({ store }: { store: GuideStore }) {
  const guides = useSyncExternalStore(store.subscribe, store.get)
  const zoom = useStore((s) => s.transform[2])
  if (guides.length === 0) return null
  const w = 1 / zoom
  return (
    <ViewportPortal>
      {guides.map((g) => (
        <div
          key={`${g.axis}${g.at}`}
          className="tb-guide"
          data-testid="alignment-guide"
          style={
            g.axis === 'x'
              ? { transform: `translate(${g.at - w / 2}px, ${g.from}px)`, width: w, height: g.to - g.from }
              : { transform: `translate(${g.from}px, ${g.at - w / 2}px)`, width: g.to - g.from, height: w }
          }
        />
      ))}
    </ViewportPortal>
  )
})
