import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { allEdges, allNodes, freeSpot, observeDesign, patchEdges, patchNodes, redecorate, type Dirty } from './flow'
import { addEdge, addNode, deleteElements, moveNodes, root, setParam, updateNode } from './schema'

const none = () => ({})

function watch(doc: Y.Doc) {
  const seen: Dirty[] = []
  const off = observeDesign(doc, (d) => seen.push(d))
  return { seen, off }
}

describe('observeDesign', () => {
  it('reports the touched node and edge ids once per transaction', () => {
    const doc = new Y.Doc()
    const { seen, off } = watch(doc)
    const a = addNode(doc, { type: 'app' })
    const b = addNode(doc, { type: 'db_primary' })
    expect(seen.map((d) => [...d.nodes])).toEqual([[a], [b]])
    seen.length = 0
    setParam(doc, a, 'instances', 3) // nested: params map inside the node map
    updateNode(doc, b, { label: 'DB' })
    const e = addEdge(doc, a, b)!
    expect(seen.map((d) => [[...d.nodes], [...d.edges]])).toEqual([
      [[a], []],
      [[b], []],
      [[], [e]],
    ])
    seen.length = 0
    deleteElements(doc, [a])
    expect(seen).toHaveLength(1)
    expect([...seen[0].nodes]).toEqual([a])
    expect([...seen[0].edges]).toEqual([e])
    off()
    addNode(doc, { type: 'cache' })
    expect(seen).toHaveLength(1)
  })

  it('sees remote updates too', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    const { seen } = watch(b)
    const id = addNode(a, { type: 'app' })
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    expect([...seen[0].nodes]).toEqual([id])
  })
})

describe('patching React Flow arrays', () => {
  it('keeps untouched nodes as the same objects', () => {
    const doc = new Y.Doc()
    const ids = Array.from({ length: 300 }, (_, i) => addNode(doc, { type: 'app', x: i, y: 0 }))
    const before = allNodes(doc, none)
    expect(before).toHaveLength(300)
    moveNodes(doc, [[ids[7], { x: 999, y: 1 }]])
    const after = patchNodes(doc, before, new Set([ids[7]]), none)
    expect(after).toHaveLength(300)
    const changed = after.filter((n, i) => n !== before[i])
    expect(changed.map((n) => n.id)).toEqual([ids[7]])
    expect(changed[0].position).toEqual({ x: 999, y: 1 })
  })

  it('adds, removes and preserves selection', () => {
    const doc = new Y.Doc()
    const a = addNode(doc, { type: 'app' })
    const b = addNode(doc, { type: 'db_primary' })
    let nodes = allNodes(doc, none).map((n) => (n.id === a ? { ...n, selected: true } : n))
    updateNode(doc, a, { label: 'renamed' })
    deleteElements(doc, [b])
    const c = addNode(doc, { type: 'cache' })
    nodes = patchNodes(doc, nodes, new Set([a, b, c]), none)
    expect(nodes.map((n) => n.id)).toEqual([a, c])
    expect(nodes[0].selected).toBe(true)
    expect(nodes[0].data.node.label).toBe('renamed')
    expect(nodes[1].type).toBe('component')
  })

  it('keeps the local position of a node being dragged', () => {
    const doc = new Y.Doc()
    const a = addNode(doc, { type: 'app', x: 0, y: 0 })
    const dragging = allNodes(doc, none).map((n) => ({ ...n, dragging: true, position: { x: 50, y: 50 } }))
    moveNodes(doc, [[a, { x: 10, y: 10 }]])
    expect(patchNodes(doc, dragging, new Set([a]), none)[0].position).toEqual({ x: 50, y: 50 })
    // its own position writes leave the array as it was; anything else about it still comes through
    expect(patchNodes(doc, dragging, new Set([a]), none)).toBe(dragging)
    updateNode(doc, a, { label: 'renamed' })
    const renamed = patchNodes(doc, dragging, new Set([a]), none)
    expect(renamed).not.toBe(dragging)
    expect(renamed[0].data.node.label).toBe('renamed')
    expect(renamed[0].position).toEqual({ x: 50, y: 50 })
  })

  it('patches edges and maps them with direction', () => {
    const doc = new Y.Doc()
    const a = addNode(doc, { type: 'app' })
    const b = addNode(doc, { type: 'db_primary' })
    const e = addEdge(doc, a, b, 'SQL')!
    const edges = allEdges(doc)
    expect(edges[0]).toMatchObject({ id: e, source: a, target: b, label: 'SQL', markerEnd: { type: 'arrowclosed' } })
    root(doc).edges.delete(e)
    expect(patchEdges(doc, edges, new Set([e]))).toEqual([])
    expect(patchEdges(doc, edges, new Set())).toBe(edges)
  })

  it('notes get the note node type', () => {
    const doc = new Y.Doc()
    addNode(doc, { type: 'note', label: 'remember the CDN' })
    expect(allNodes(doc, none)[0].type).toBe('note')
  })

  it('redecorates only nodes whose decoration changed', () => {
    const doc = new Y.Doc()
    const ids = [addNode(doc, { type: 'app' }), addNode(doc, { type: 'app' }), addNode(doc, { type: 'app' })]
    const nodes = allNodes(doc, none)
    expect(redecorate(nodes, none)).toBe(nodes)
    const hl = redecorate(nodes, (id) => (id === ids[1] ? { highlight: true, remote: ['#f00'] } : {}))
    expect(hl[0]).toBe(nodes[0])
    expect(hl[2]).toBe(nodes[2])
    expect(hl[1].data.decor).toEqual({ highlight: true, remote: ['#f00'] })
  })
})

describe('freeSpot', () => {
  it('returns the start when it is free and a non-overlapping spot otherwise', () => {
    expect(freeSpot([], { x: 0, y: 0 })).toEqual({ x: 0, y: 0 })
    const taken = [{ x: 0, y: 0 }]
    const p = freeSpot(taken, { x: 10, y: 10 })
    expect(Math.abs(p.x) >= 248 || Math.abs(p.y) >= 96).toBe(true)
    // filling spots one after another never overlaps
    const placed: { x: number; y: number }[] = []
    for (let i = 0; i < 20; i++) placed.push(freeSpot(placed, { x: 0, y: 0 }))
    for (const a of placed) for (const b of placed) if (a !== b) expect(Math.abs(a.x - b.x) >= 248 || Math.abs(a.y - b.y) >= 96).toBe(true)
  })
})
