/**
 * Keeps React Flow's node and edge arrays in step with the Yjs document without rebuilding the
 * whole canvas on each change: Yjs events name the node and edge ids they touched, and only those
 * entries get new objects. Unchanged entries keep their identity, so memoised node components and
 * React Flow's own diffing skip them (what keeps a 300-node design smooth).
 */
import * as Y from 'yjs'
import { MarkerType, type Edge, type Node } from '@xyflow/react'
import { readEdge, readNode, root, type DesignEdge, type DesignNode } from './schema'

export interface NodeDecor {
  /** The tier panel asked to highlight this node. */
  highlight?: boolean
  /** Colours of the other participants who have this node selected. */
  remote?: string[]
  /** The capacity simulation's figures for this node (the heat colour and its badge). */
  heat?: NodeHeat
  /** Failing tier rules that name this node (issue 24, item 4), from ./room/heat.ts. */
  failing?: RuleMark
}

/** A node's mark for the failing tier rules that name it: the earliest such tier, and the rules. */
export interface RuleMark {
  tier: string
  rules: string[]
}

/** What a node shows of the simulation (built by ./room/heat.ts from the result). */
export interface NodeHeat {
  band: string
  color: string
  utilisation: number
  /** One line on the node: "62 % · 1.2k rps · 14 ms". */
  badge: string
  /** The figures in full, for the tooltip. */
  title: string
  bottleneck: boolean
}

/** How an edge is drawn from the simulation: its width by its traffic. */
export interface EdgeDecor {
  width: number
  rps: number
  /** Off the request path (into a queue, replication): dashed. */
  offPath: boolean
}

export type DesignFlowNode = Node<{ node: DesignNode; decor: NodeDecor }, 'component' | 'note'>

export interface Dirty {
  nodes: Set<string>
  edges: Set<string>
}

/** The ids a batch of deep events on the `nodes` (or `edges`) map touched. */
export function touchedIds(events: Y.YEvent<Y.AbstractType<unknown>>[], top: object): Set<string> {
  const ids = new Set<string>()
  for (const ev of events) {
    if (ev.target === top) {
      for (const key of ev.changes.keys.keys()) ids.add(key)
    } else {
      const first = ev.path[0]
      if (typeof first === 'string') ids.add(first)
    }
  }
  return ids
}

/** Calls `onChange` with the touched ids after every transaction that changes nodes or edges. */
export function observeDesign(doc: Y.Doc, onChange: (d: Dirty, origin: unknown) => void): () => void {
  const r = root(doc)
  let pending: Dirty | null = null
  let origin: unknown = null
  const onNodes = (evs: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction) => {
    pending ??= { nodes: new Set(), edges: new Set() }
    for (const id of touchedIds(evs, r.nodes)) pending.nodes.add(id)
    origin = tr.origin
  }
  const onEdges = (evs: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction) => {
    pending ??= { nodes: new Set(), edges: new Set() }
    for (const id of touchedIds(evs, r.edges)) pending.edges.add(id)
    origin = tr.origin
  }
  // Deep observers of both maps fire inside one transaction; flush once after it.
  const flush = () => {
    if (pending) {
      const d = pending
      pending = null
      onChange(d, origin)
    }
  }
  r.nodes.observeDeep(onNodes)
  r.edges.observeDeep(onEdges)
  doc.on('afterTransaction', flush)
  return () => {
    r.nodes.unobserveDeep(onNodes)
    r.edges.unobserveDeep(onEdges)
    doc.off('afterTransaction', flush)
  }
}

export const NODE_WIDTH = 208

export function toFlowNode(n: DesignNode, decor: NodeDecor, prev?: DesignFlowNode): DesignFlowNode {
  return {
    id: n.id,
    type: n.type === 'note' ? 'note' : 'component',
    position: prev?.dragging ? prev.position : { x: n.x, y: n.y },
    data: { node: n, decor },
    selected: prev?.selected ?? false,
    dragging: prev?.dragging,
    measured: prev?.measured,
    width: prev?.width,
    height: prev?.height,
  }
}

export function toFlowEdge(e: DesignEdge, prev?: Edge, decor?: EdgeDecor): Edge {
  const edge: Edge = {
    id: e.id,
    source: e.from,
    target: e.to,
    label: e.label,
    // between the facing sides of its nodes (room/edges.tsx)
    type: 'facing',
    markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 },
    selected: prev?.selected ?? false,
  }
  return decor ? withFlow(edge, decor) : edge
}

/** An arrowhead of about 18 px on a stroke of `width` px (marker sizes are in stroke widths). */
function arrow(width: number): number {
  return Math.round((18 / Math.max(1, width)) * 10) / 10 + 4
}

function withFlow(edge: Edge, d: EdgeDecor): Edge {
  return {
    ...edge,
    style: { strokeWidth: d.width, strokeDasharray: d.offPath ? '6 4' : undefined },
    // Markers are sized in stroke widths: scale them down so that a wide edge keeps a usual arrowhead.
    markerEnd: { type: MarkerType.ArrowClosed, width: arrow(d.width), height: arrow(d.width) },
    className: d.offPath ? 'sim-edge off-path' : 'sim-edge',
    data: { rps: d.rps },
  }
}

/** Re-draws only the edges whose flow changed; the same array when none did. */
export function redecorateEdges(prev: Edge[], decorOf: (id: string) => EdgeDecor | undefined): Edge[] {
  let changed = false
  const out = prev.map((e) => {
    const d = decorOf(e.id)
    const was = e.data as { rps?: number } | undefined
    const width = (e.style as { strokeWidth?: number } | undefined)?.strokeWidth
    if (d ? was?.rps === d.rps && width === d.width : was?.rps === undefined) return e
    changed = true
    if (d) return withFlow(e, d)
    return {
      ...e,
      style: undefined,
      className: undefined,
      data: undefined,
      markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 },
    }
  })
  return changed ? out : prev
}

/**
 * Applies a set of touched ids to a previous array: entries that still exist are re-read, deleted
 * ones dropped, new ones appended. Untouched entries are returned as the same objects.
 */
function patch<T extends { id: string }>(prev: T[], dirty: Set<string>, make: (id: string, prev?: T) => T | null): T[] {
  if (dirty.size === 0) return prev
  const out: T[] = []
  const seen = new Set<string>()
  let changed = false
  for (const p of prev) {
    seen.add(p.id)
    const next = dirty.has(p.id) ? make(p.id, p) : p
    if (next) out.push(next)
    if (next !== p) changed = true
  }
  for (const id of dirty) {
    if (seen.has(id)) continue
    const next = make(id)
    if (next) out.push(next)
    if (next) changed = true
  }
  // nothing new: the same array, so that React Flow does not update every node and edge for nothing
  return changed ? out : prev
}

/** Whether two reads of a node differ only in where it is. */
function samePlaceless(a: DesignNode, b: DesignNode): boolean {
  if (a.type !== b.type || a.label !== b.label) return false
  const ka = Object.keys(a.params)
  return ka.length === Object.keys(b.params).length && ka.every((k) => a.params[k] === b.params[k])
}

export function patchNodes(doc: Y.Doc, prev: DesignFlowNode[], dirty: Set<string>, decorOf: (id: string) => NodeDecor): DesignFlowNode[] {
  const nodes = root(doc).nodes
  return patch(prev, dirty, (id, p) => {
    const m = nodes.get(id)
    if (!(m instanceof Y.Map)) return null
    const n = readNode(id, m)
    const decor = decorOf(id)
    // A node being dragged here: its own position writes (every 40 ms) change nothing on the canvas,
    // which keeps the local position until the drag ends. Each new object made React Flow run every
    // node's and edge's selector once more per write on a 300-node design (issue 24, item 9).
    if (p?.dragging && samePlaceless(n, p.data.node) && sameDecor(decor, p.data.decor)) return p
    return toFlowNode(n, decor, p)
  })
}

export function patchEdges(doc: Y.Doc, prev: Edge[], dirty: Set<string>, decorOf?: (id: string) => EdgeDecor | undefined): Edge[] {
  const edges = root(doc).edges
  return patch(prev, dirty, (id, p) => {
    const m = edges.get(id)
    return m instanceof Y.Map ? toFlowEdge(readEdge(id, m), p, decorOf?.(id)) : null
  })
}

/** The whole canvas, for the first render. */
export function allNodes(doc: Y.Doc, decorOf: (id: string) => NodeDecor): DesignFlowNode[] {
  const out: DesignFlowNode[] = []
  root(doc).nodes.forEach((m, id) => {
    if (m instanceof Y.Map) out.push(toFlowNode(readNode(id, m), decorOf(id)))
  })
  return out
}

export function allEdges(doc: Y.Doc, decorOf?: (id: string) => EdgeDecor | undefined): Edge[] {
  const out: Edge[] = []
  root(doc).edges.forEach((m, id) => {
    if (m instanceof Y.Map) out.push(toFlowEdge(readEdge(id, m), undefined, decorOf?.(id)))
  })
  return out
}

/** Re-decorates only the nodes whose decoration changed (highlights, remote selections). */
export function redecorate(prev: DesignFlowNode[], decorOf: (id: string) => NodeDecor): DesignFlowNode[] {
  let changed = false
  const out = prev.map((n) => {
    const d = decorOf(n.id)
    if (sameDecor(d, n.data.decor)) return n
    changed = true
    return { ...n, data: { ...n.data, decor: d } }
  })
  return changed ? out : prev
}

export function sameDecor(a: NodeDecor, b: NodeDecor): boolean {
  if (Boolean(a.highlight) !== Boolean(b.highlight)) return false
  if (a.failing?.tier !== b.failing?.tier || a.failing?.rules.join('\n') !== b.failing?.rules.join('\n')) return false
  const ra = a.remote ?? []
  const rb = b.remote ?? []
  if (a.heat?.title !== b.heat?.title || a.heat?.bottleneck !== b.heat?.bottleneck || a.heat?.color !== b.heat?.color) return false
  return ra.length === rb.length && ra.every((c, i) => c === rb[i])
}

/**
 * The first spot near `start` (on a spiral of grid cells) where a node of the standard size does
 * not overlap an existing one: what "click to add" uses so new nodes never pile up.
 */
export function freeSpot(existing: Iterable<{ x: number; y: number }>, start: { x: number; y: number }): { x: number; y: number } {
  const taken = [...existing]
  const w = NODE_WIDTH + 40
  const h = 96
  const free = (p: { x: number; y: number }) => taken.every((n) => Math.abs(n.x - p.x) >= w || Math.abs(n.y - p.y) >= h)
  if (free(start)) return start
  for (let ring = 1; ring < 12; ring++) {
    for (let dy = -ring; dy <= ring; dy++) {
      for (let dx = -ring; dx <= ring; dx++) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue
        const p = { x: start.x + dx * w, y: start.y + dy * h }
        if (free(p)) return p
      }
    }
  }
  return { x: start.x + 24, y: start.y + 24 }
}
