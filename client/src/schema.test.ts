import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  DesignError,
  LOCAL_ORIGIN,
  addEdge,
  addNode,
  canvasUndoManager,
  deleteElements,
  duplicateNodes,
  exportDesign,
  getNode,
  importDesign,
  instancesOf,
  isEmpty,
  moveNodes,
  parseDesign,
  problemOf,
  readNode,
  root,
  setParam,
  updateEdgeLabel,
  updateNode,
} from './schema'

function sync(a: Y.Doc, b: Y.Doc) {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
}

describe('schema accessors', () => {
  it('writes nodes in the documented layout (nested params map)', () => {
    const doc = new Y.Doc()
    const id = addNode(doc, { type: 'app', label: 'App Servers', x: 10, y: 20, params: { instances: 8 } })
    const m = root(doc).nodes.get(id)!
    expect(m).toBeInstanceOf(Y.Map)
    expect(m.get('type')).toBe('app')
    expect(m.get('label')).toBe('App Servers')
    expect(m.get('x')).toBe(10)
    expect(m.get('y')).toBe(20)
    const params = m.get('params') as Y.Map<unknown>
    expect(params).toBeInstanceOf(Y.Map)
    expect(params.get('instances')).toBe(8)
    expect(getNode(doc, id)).toEqual({ id, type: 'app', label: 'App Servers', x: 10, y: 20, params: { instances: 8 } })
  })

  it('reads malformed nodes without throwing', () => {
    const doc = new Y.Doc()
    const m = new Y.Map<unknown>()
    root(doc).nodes.set('bad', m)
    m.set('x', 'not a number')
    m.set('params', 'nope')
    expect(readNode('bad', m)).toEqual({ id: 'bad', type: 'unknown', label: '', x: 0, y: 0, params: {} })
  })

  it('instancesOf defaults to 1 and rejects non-integers', () => {
    expect(instancesOf({ params: {} })).toBe(1)
    expect(instancesOf({ params: { instances: 7 } })).toBe(7)
    expect(instancesOf({ params: { instances: 2.5 } })).toBe(1)
    expect(instancesOf({ params: { instances: '3' } })).toBe(1)
    expect(instancesOf({ params: { instances: 0 } })).toBe(1)
  })

  it('updates label, position and params, and removes a param with undefined', () => {
    const doc = new Y.Doc()
    const id = addNode(doc, { type: 'cache' })
    updateNode(doc, id, { label: 'Redis' })
    moveNodes(doc, [[id, { x: 5, y: 6 }]])
    setParam(doc, id, 'hit_rate', 0.9)
    expect(getNode(doc, id)).toMatchObject({ label: 'Redis', x: 5, y: 6, params: { hit_rate: 0.9 } })
    setParam(doc, id, 'hit_rate', undefined)
    expect(getNode(doc, id)!.params).toEqual({})
    // unknown ids are ignored rather than creating half a node
    updateNode(doc, 'nope', { label: 'x' })
    setParam(doc, 'nope', 'a', 1)
    expect(root(doc).nodes.size).toBe(1)
  })

  it('adds directed edges, refusing self-loops, duplicates and missing nodes', () => {
    const doc = new Y.Doc()
    const a = addNode(doc, { type: 'app' })
    const b = addNode(doc, { type: 'db_primary' })
    const e = addEdge(doc, a, b, 'SQL')
    expect(e).not.toBeNull()
    expect(addEdge(doc, a, b)).toBeNull()
    expect(addEdge(doc, a, a)).toBeNull()
    expect(addEdge(doc, a, 'ghost')).toBeNull()
    expect(addEdge(doc, b, a)).not.toBeNull()
    updateEdgeLabel(doc, e!, '')
    expect(exportDesign(doc).edges.find((x) => x.id === e)).toEqual({ id: e, from: a, to: b })
  })

  it('deleting a node deletes its edges', () => {
    const doc = new Y.Doc()
    const a = addNode(doc, { type: 'lb' })
    const b = addNode(doc, { type: 'app' })
    const c = addNode(doc, { type: 'db_primary' })
    addEdge(doc, a, b)
    const bc = addEdge(doc, b, c)!
    deleteElements(doc, [a])
    const d = exportDesign(doc)
    expect(d.nodes.map((n) => n.id).sort()).toEqual([b, c].sort())
    expect(d.edges.map((e) => e.id)).toEqual([bc])
  })

  it('duplicates nodes with the edges among them, offset', () => {
    const doc = new Y.Doc()
    const a = addNode(doc, { type: 'app', x: 0, y: 0, params: { instances: 3 } })
    const b = addNode(doc, { type: 'db_primary', x: 100, y: 0 })
    const c = addNode(doc, { type: 'cache', x: 0, y: 100 })
    addEdge(doc, a, b)
    addEdge(doc, a, c)
    const [a2, b2] = duplicateNodes(doc, [a, b], { x: 10, y: 20 })
    expect(getNode(doc, a2)).toMatchObject({ type: 'app', x: 10, y: 20, params: { instances: 3 } })
    expect(getNode(doc, b2)).toMatchObject({ type: 'db_primary', x: 110, y: 20 })
    const d = exportDesign(doc)
    expect(d.nodes).toHaveLength(5)
    // the a→b edge is copied; a→c is not (c was not duplicated)
    expect(d.edges.filter((e) => e.from === a2)).toEqual([expect.objectContaining({ from: a2, to: b2 })])
    expect(d.edges).toHaveLength(3)
  })

  it('exports and re-imports a design identically', () => {
    const doc = new Y.Doc()
    const a = addNode(doc, { type: 'app', label: 'App', x: 1, y: 2, params: { instances: 8, region: 'eu', warm: true } })
    const b = addNode(doc, { type: 'db_primary', label: 'DB', x: 3, y: 4 })
    addEdge(doc, a, b, 'SQL')
    const design = exportDesign(doc)
    const copy = new Y.Doc()
    importDesign(copy, parseDesign(JSON.parse(JSON.stringify(design))))
    expect(exportDesign(copy)).toEqual(design)
  })

  it('import refuses a room that is not empty', () => {
    const doc = new Y.Doc()
    addNode(doc, { type: 'app' })
    expect(isEmpty(doc)).toBe(false)
    expect(() => importDesign(doc, { nodes: [], edges: [] })).toThrow(DesignError)
  })

  it('parseDesign names the element and field that is wrong', () => {
    expect(() => parseDesign([])).toThrow(/JSON object/)
    expect(() => parseDesign({ nodes: {} })).toThrow('"nodes" must be an array')
    expect(() => parseDesign({ nodes: [{ id: 'a' }] })).toThrow('nodes[0].type')
    expect(() => parseDesign({ nodes: [{ id: 'a', type: 'app', x: 'left' }] })).toThrow('nodes[0].x must be a number')
    expect(() =>
      parseDesign({
        nodes: [
          { id: 'a', type: 'app' },
          { id: 'a', type: 'app' },
        ],
      }),
    ).toThrow('used twice')
    expect(() => parseDesign({ nodes: [{ id: 'a', type: 'app', params: { n: [1] } }] })).toThrow('nodes[0].params.n')
    expect(() => parseDesign({ nodes: [{ id: 'a', type: 'app' }], edges: [{ id: 'e', from: 'a', to: 'b' }] })).toThrow(
      'edges[0].to "b" is not a node of this design',
    )
    expect(parseDesign({ nodes: [{ id: 'a', type: 'app' }] })).toEqual({
      nodes: [{ id: 'a', type: 'app', label: '', x: 0, y: 0, params: {} }],
      edges: [],
    })
  })

  it('reads the problem id from meta', () => {
    const doc = new Y.Doc()
    expect(problemOf(doc)).toBeNull()
    root(doc).meta.set('problem', 'tutorial-simple-blog')
    expect(problemOf(doc)).toBe('tutorial-simple-blog')
  })

  it('concurrent edits from two documents converge', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    const n = addNode(a, { type: 'app', label: 'A' })
    sync(a, b)
    updateNode(a, n, { label: 'from a' })
    setParam(b, n, 'instances', 4)
    addNode(b, { type: 'db_primary' })
    sync(a, b)
    expect(exportDesign(a)).toEqual(exportDesign(b))
    expect(getNode(b, n)).toMatchObject({ label: 'from a', params: { instances: 4 } })
  })
})

describe('undo', () => {
  it('undoes only this document’s own edits', () => {
    const mine = new Y.Doc()
    const theirs = new Y.Doc()
    const um = canvasUndoManager(mine)
    const a = addNode(mine, { type: 'app' })
    um.stopCapturing()
    sync(mine, theirs)
    const b = addNode(theirs, { type: 'db_primary' })
    sync(mine, theirs)
    expect(root(mine).nodes.size).toBe(2)
    um.undo()
    // my node is gone, theirs stays
    expect(root(mine).nodes.has(a)).toBe(false)
    expect(root(mine).nodes.has(b)).toBe(true)
    um.redo()
    expect(root(mine).nodes.has(a)).toBe(true)
  })

  it('tracks only transactions with the local origin', () => {
    const doc = new Y.Doc()
    const um = canvasUndoManager(doc)
    doc.transact(() => root(doc).nodes.set('x', new Y.Map()), 'someone-else')
    expect(um.undoStack.length).toBe(0)
    doc.transact(() => root(doc).nodes.set('y', new Y.Map()), LOCAL_ORIGIN)
    expect(um.undoStack.length).toBe(1)
  })
})
