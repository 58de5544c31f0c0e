/**
 * The canvas schema (docs/PROTOCOL.md §3): the one place in the client that knows how a room's Yjs
 * document is laid out. Every component reads and writes the design through these accessors.
 *
 * Root of the document:
 * - `nodes`: Y.Map<Y.Map>  node id → {type, label, x, y, params: Y.Map<number|string|boolean>}
 * - `edges`: Y.Map<Y.Map>  edge id → {from, to, label?}
 * - `meta`:  Y.Map         problem: string (written by the server when the room is created)
 * - `notes`: Y.Text        free text
 * - `hints`: Y.Map         hint index ("0", "1" ...) → {by: string, at: epoch ms}: the problem's hints
 *                          revealed in this room, shared with everyone (issue 21)
 *
 * Reads are tolerant: another client (or an old version) may have written something malformed, and a
 * bad field must never crash the canvas, so readers coerce to defaults. Writes are strict.
 *
 * Every local write runs in a transaction whose origin is {@link LOCAL_ORIGIN}, which is what the
 * undo manager tracks: undo only ever reverts this tab's own changes.
 */
import * as Y from 'yjs'

/** Transaction origin of this tab's own edits (the undo manager's tracked origin). */
export const LOCAL_ORIGIN: unique symbol = Symbol('tierboard-local-edit')

/** The special node type for free-text sticky notes; validation ignores it. */
export const NOTE_TYPE = 'note'

export type ParamValue = number | string | boolean
export type Params = Record<string, ParamValue>

export interface DesignNode {
  id: string
  type: string
  label: string
  x: number
  y: number
  params: Params
}

export interface DesignEdge {
  id: string
  from: string
  to: string
  label?: string
}

/** The design JSON that travels outside a room (validate, export, import, reference designs). */
export interface Design {
  nodes: DesignNode[]
  edges: DesignEdge[]
}

export interface Root {
  nodes: Y.Map<Y.Map<unknown>>
  edges: Y.Map<Y.Map<unknown>>
  meta: Y.Map<unknown>
  notes: Y.Text
  hints: Y.Map<unknown>
}

/** The four root types of a room document. Calling it twice gives the same instances. */
export function root(doc: Y.Doc): Root {
  return {
    nodes: doc.getMap<Y.Map<unknown>>('nodes'),
    edges: doc.getMap<Y.Map<unknown>>('edges'),
    meta: doc.getMap<unknown>('meta'),
    notes: doc.getText('notes'),
    hints: doc.getMap<unknown>('hints'),
  }
}

/** The origin of the `meta.edited` marker (not one's own edit for undo). */
export const MARK_ORIGIN = Symbol('tierboard-mark')

/**
 * Makes every local change visible to the saved indicator (issue 24, item 6). The indicator compares
 * state vectors, and a Yjs deletion does not advance the state vector: a change that only deletes
 * (deleting a node, clearing a label, undoing an add) looked saved while it was not even sent. After
 * such a change this writes `meta.edited` (a timestamp), which does advance it, in the next
 * transaction. Returns the function that stops watching.
 */
export function markDeleteOnlyChanges(doc: Y.Doc): () => void {
  const meta = root(doc).meta
  const onTransaction = (tr: Y.Transaction) => {
    if (!tr.local || tr.origin === MARK_ORIGIN || tr.deleteSet.clients.size === 0) return
    const id = doc.clientID
    if ((tr.afterState.get(id) ?? 0) !== (tr.beforeState.get(id) ?? 0)) return
    // Not inside the transaction's own cleanup: a separate transaction right after it.
    queueMicrotask(() => doc.transact(() => meta.set('edited', Date.now()), MARK_ORIGIN))
  }
  doc.on('afterTransaction', onTransaction)
  return () => doc.off('afterTransaction', onTransaction)
}

export function newId(): string {
  return crypto.randomUUID()
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback
}

function isParamValue(v: unknown): v is ParamValue {
  return (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string' || typeof v === 'boolean'
}

/** Reads one node map into plain data; missing or malformed fields become defaults. */
export function readNode(id: string, m: Y.Map<unknown>): DesignNode {
  const params: Params = {}
  const p = m.get('params')
  if (p instanceof Y.Map) {
    p.forEach((v, k) => {
      if (isParamValue(v)) params[k] = v
    })
  }
  return {
    id,
    type: str(m.get('type'), 'unknown'),
    label: str(m.get('label')),
    x: num(m.get('x'), 0),
    y: num(m.get('y'), 0),
    params,
  }
}

export function readEdge(id: string, m: Y.Map<unknown>): DesignEdge {
  const e: DesignEdge = { id, from: str(m.get('from')), to: str(m.get('to')) }
  const label = m.get('label')
  if (typeof label === 'string' && label !== '') e.label = label
  return e
}

export function getNode(doc: Y.Doc, id: string): DesignNode | null {
  const m = root(doc).nodes.get(id)
  return m instanceof Y.Map ? readNode(id, m) : null
}

/** The fleet size a node stands for (`params.instances`, integer ≥ 1, default 1). */
export function instancesOf(node: Pick<DesignNode, 'params'>): number {
  const v = node.params.instances
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1
}

export function problemOf(doc: Y.Doc): string | null {
  const p = root(doc).meta.get('problem')
  return typeof p === 'string' ? p : null
}

/** Who revealed a hint in a room, and when. */
export interface HintReveal {
  by: string
  at: number
}

/**
 * The hints revealed in a room, in order. Hints are revealed one at a time, so only the run from
 * hint 0 counts: a stray entry beyond a gap (written by a malformed client) is ignored.
 */
export function revealedHints(doc: Y.Doc): HintReveal[] {
  const m = root(doc).hints
  const out: HintReveal[] = []
  for (let i = 0; m.has(String(i)); i++) {
    const v = m.get(String(i))
    const o = v && typeof v === 'object' ? (v as Record<string, unknown>) : {}
    out.push({ by: str(o.by), at: num(o.at, 0) })
  }
  return out
}

/**
 * Reveals the next hint for everyone. Two people pressing at once write the same key, so the room
 * still advances by one. Not part of undo: a revealed hint stays revealed.
 */
export function revealNextHint(doc: Y.Doc, by: string, total: number): number {
  const next = revealedHints(doc).length
  if (next >= total) return next
  doc.transact(() => root(doc).hints.set(String(next), { by, at: Date.now() }), LOCAL_ORIGIN)
  return next + 1
}

export function isEmpty(doc: Y.Doc): boolean {
  const r = root(doc)
  return r.nodes.size === 0 && r.edges.size === 0
}

function local(doc: Y.Doc, f: () => void): void {
  doc.transact(f, LOCAL_ORIGIN)
}

function nodeMap(n: Omit<DesignNode, 'id'>): Y.Map<unknown> {
  const m = new Y.Map<unknown>()
  m.set('type', n.type)
  m.set('label', n.label)
  m.set('x', n.x)
  m.set('y', n.y)
  const params = new Y.Map<ParamValue>()
  for (const [k, v] of Object.entries(n.params)) params.set(k, v)
  m.set('params', params)
  return m
}

function edgeMap(e: Omit<DesignEdge, 'id'>): Y.Map<unknown> {
  const m = new Y.Map<unknown>()
  m.set('from', e.from)
  m.set('to', e.to)
  if (e.label) m.set('label', e.label)
  return m
}

export type NewNode = Partial<Omit<DesignNode, 'id'>> & { type: string }

/** Adds a node and returns its id. */
export function addNode(doc: Y.Doc, n: NewNode, id: string = newId()): string {
  local(doc, () => {
    root(doc).nodes.set(id, nodeMap({ type: n.type, label: n.label ?? '', x: n.x ?? 0, y: n.y ?? 0, params: n.params ?? {} }))
  })
  return id
}

/** Changes a node's label, type or position; unknown node ids are ignored (it may have just been deleted). */
export function updateNode(doc: Y.Doc, id: string, patch: Partial<Pick<DesignNode, 'type' | 'label' | 'x' | 'y'>>): void {
  const m = root(doc).nodes.get(id)
  if (!(m instanceof Y.Map)) return
  local(doc, () => {
    for (const [k, v] of Object.entries(patch)) {
      if (v !== undefined && m.get(k) !== v) m.set(k, v)
    }
  })
}

/** Moves several nodes in one transaction (one update on the wire per drag frame). */
export function moveNodes(doc: Y.Doc, positions: Iterable<[string, { x: number; y: number }]>): void {
  const nodes = root(doc).nodes
  local(doc, () => {
    for (const [id, { x, y }] of positions) {
      const m = nodes.get(id)
      if (!(m instanceof Y.Map)) continue
      if (m.get('x') !== x) m.set('x', x)
      if (m.get('y') !== y) m.set('y', y)
    }
  })
}

/** Sets (or with `undefined`, removes) one parameter of a node. */
export function setParam(doc: Y.Doc, id: string, name: string, value: ParamValue | undefined): void {
  const m = root(doc).nodes.get(id)
  if (!(m instanceof Y.Map)) return
  local(doc, () => {
    let params = m.get('params')
    if (!(params instanceof Y.Map)) {
      params = new Y.Map<ParamValue>()
      m.set('params', params)
    }
    const p = params as Y.Map<ParamValue>
    if (value === undefined) p.delete(name)
    else if (p.get(name) !== value) p.set(name, value)
  })
}

/**
 * Adds a directed edge. Returns its id, or null when it would be a self-loop, would join a missing
 * node, or duplicates an existing edge with the same direction.
 */
export function addEdge(doc: Y.Doc, from: string, to: string, label?: string, id: string = newId()): string | null {
  const r = root(doc)
  if (from === to || !r.nodes.has(from) || !r.nodes.has(to)) return null
  for (const [eid, m] of r.edges) {
    const e = readEdge(eid, m)
    if (e.from === from && e.to === to) return null
  }
  local(doc, () => {
    r.edges.set(id, edgeMap({ from, to, label }))
  })
  return id
}

export function updateEdgeLabel(doc: Y.Doc, id: string, label: string): void {
  const m = root(doc).edges.get(id)
  if (!(m instanceof Y.Map)) return
  local(doc, () => {
    if (label === '') m.delete('label')
    else m.set('label', label)
  })
}

/** Deletes nodes and edges; the edges that touch a deleted node go with it. */
export function deleteElements(doc: Y.Doc, nodeIds: Iterable<string>, edgeIds: Iterable<string> = []): void {
  const r = root(doc)
  const nodes = new Set(nodeIds)
  const edges = new Set(edgeIds)
  if (nodes.size > 0) {
    for (const [eid, m] of r.edges) {
      const e = readEdge(eid, m)
      if (nodes.has(e.from) || nodes.has(e.to)) edges.add(eid)
    }
  }
  if (nodes.size === 0 && edges.size === 0) return
  local(doc, () => {
    for (const id of edges) r.edges.delete(id)
    for (const id of nodes) r.nodes.delete(id)
  })
}

/**
 * Copies nodes (and the edges between them) shifted by `offset`; returns the new node ids in the
 * order of `ids`.
 */
export function duplicateNodes(doc: Y.Doc, ids: string[], offset = { x: 40, y: 40 }): string[] {
  const r = root(doc)
  const mapping = new Map<string, string>()
  const copies: DesignNode[] = []
  for (const id of ids) {
    const n = getNode(doc, id)
    if (!n || mapping.has(id)) continue
    const nid = newId()
    mapping.set(id, nid)
    copies.push({ ...n, id: nid, x: n.x + offset.x, y: n.y + offset.y })
  }
  const edgeCopies: DesignEdge[] = []
  for (const [eid, m] of r.edges) {
    const e = readEdge(eid, m)
    const from = mapping.get(e.from)
    const to = mapping.get(e.to)
    if (from && to) edgeCopies.push({ id: newId(), from, to, label: e.label })
  }
  local(doc, () => {
    for (const n of copies) r.nodes.set(n.id, nodeMap(n))
    for (const e of edgeCopies) r.edges.set(e.id, edgeMap(e))
  })
  return copies.map((n) => n.id)
}

/** The whole design as JSON (docs/PROTOCOL.md §3), nodes and edges sorted by id for stable output. */
export function exportDesign(doc: Y.Doc): Design {
  const r = root(doc)
  const nodes: DesignNode[] = []
  r.nodes.forEach((m, id) => {
    if (m instanceof Y.Map) nodes.push(readNode(id, m))
  })
  const edges: DesignEdge[] = []
  r.edges.forEach((m, id) => {
    if (m instanceof Y.Map) edges.push(readEdge(id, m))
  })
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  return { nodes: nodes.sort(byId), edges: edges.sort(byId) }
}

/** A design JSON that cannot be imported; the message says which element and field is wrong. */
export class DesignError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DesignError'
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Checks an untrusted value (a parsed file) against the design JSON format. Strict: unlike the
 * readers above, an import must not silently invent data.
 */
export function parseDesign(value: unknown): Design {
  if (!isRecord(value)) throw new DesignError('a design is a JSON object with "nodes" and "edges"')
  const { nodes, edges } = value
  if (!Array.isArray(nodes)) throw new DesignError('"nodes" must be an array')
  if (edges !== undefined && !Array.isArray(edges)) throw new DesignError('"edges" must be an array')
  const ids = new Set<string>()
  const out: Design = { nodes: [], edges: [] }
  nodes.forEach((n, i) => {
    const at = `nodes[${i}]`
    if (!isRecord(n)) throw new DesignError(`${at} is not an object`)
    if (typeof n.id !== 'string' || n.id === '') throw new DesignError(`${at}.id must be a non-empty string`)
    if (ids.has(n.id)) throw new DesignError(`${at}.id "${n.id}" is used twice`)
    if (typeof n.type !== 'string' || n.type === '') throw new DesignError(`${at}.type must be a non-empty string`)
    for (const k of ['x', 'y'] as const) {
      if (n[k] !== undefined && (typeof n[k] !== 'number' || !Number.isFinite(n[k]))) {
        throw new DesignError(`${at}.${k} must be a number`)
      }
    }
    if (n.label !== undefined && typeof n.label !== 'string') throw new DesignError(`${at}.label must be a string`)
    const params: Params = {}
    if (n.params !== undefined) {
      if (!isRecord(n.params)) throw new DesignError(`${at}.params must be an object`)
      for (const [k, v] of Object.entries(n.params)) {
        if (!isParamValue(v)) throw new DesignError(`${at}.params.${k} must be a number, string or boolean`)
        params[k] = v
      }
    }
    ids.add(n.id)
    out.nodes.push({
      id: n.id,
      type: n.type,
      label: (n.label as string | undefined) ?? '',
      x: (n.x as number | undefined) ?? 0,
      y: (n.y as number | undefined) ?? 0,
      params,
    })
  })
  const edgeIds = new Set<string>()
  ;(edges ?? []).forEach((e: unknown, i: number) => {
    const at = `edges[${i}]`
    if (!isRecord(e)) throw new DesignError(`${at} is not an object`)
    if (typeof e.id !== 'string' || e.id === '') throw new DesignError(`${at}.id must be a non-empty string`)
    if (edgeIds.has(e.id)) throw new DesignError(`${at}.id "${e.id}" is used twice`)
    for (const k of ['from', 'to'] as const) {
      const v = e[k]
      if (typeof v !== 'string') throw new DesignError(`${at}.${k} must be a node id`)
      if (!ids.has(v)) throw new DesignError(`${at}.${k} "${v}" is not a node of this design`)
    }
    if (e.label !== undefined && e.label !== null && typeof e.label !== 'string') {
      throw new DesignError(`${at}.label must be a string`)
    }
    edgeIds.add(e.id)
    const edge: DesignEdge = { id: e.id, from: e.from as string, to: e.to as string }
    if (typeof e.label === 'string' && e.label !== '') edge.label = e.label
    out.edges.push(edge)
  })
  return out
}

/** Writes a design into an empty room in one transaction (one undo step). */
export function importDesign(doc: Y.Doc, design: Design): void {
  if (!isEmpty(doc)) throw new DesignError('import needs an empty room: this one already has a design')
  addDesign(doc, design)
}

/**
 * Adds a design's nodes and edges with the ids they carry, in one transaction (one undo step): the
 * caller gives fresh ids when the room may hold the same ones (paste, merge-import).
 */
export function addDesign(doc: Y.Doc, design: Design): void {
  const r = root(doc)
  local(doc, () => {
    for (const n of design.nodes) r.nodes.set(n.id, nodeMap(n))
    for (const e of design.edges) r.edges.set(e.id, edgeMap(e))
  })
}

/** Replaces the whole design (import "replace"), in one transaction: one undo brings the old one back. */
export function replaceDesign(doc: Y.Doc, design: Design): void {
  const r = root(doc)
  local(doc, () => {
    for (const id of [...r.edges.keys()]) r.edges.delete(id)
    for (const id of [...r.nodes.keys()]) r.nodes.delete(id)
    addDesign(doc, design)
  })
}

/** An undo manager over the canvas that reverts only this tab's edits. */
export function canvasUndoManager(doc: Y.Doc): Y.UndoManager {
  const r = root(doc)
  return new Y.UndoManager([r.nodes, r.edges], {
    trackedOrigins: new Set([LOCAL_ORIGIN]),
    captureTimeout: 400,
  })
}
