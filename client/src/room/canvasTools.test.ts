// Placing and connecting (issue 24, item 3): alignment guides, align and distribute, and copy and
// paste of a selection with its edges (also into another room's document).
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { addEdge, addNode, canvasUndoManager, exportDesign, replaceDesign } from '../schema'
import { alignMoves, distributeMoves, type Placed } from './align'
import { snapToGuides } from './guides'
import { CLIP_FORMAT, copyPayload, insertDesign, parsePayload } from './pasting'

const box = (x: number, y: number, width = 208, height = 56) => ({ x, y, width, height })

describe('alignment guides', () => {
  it('snap a node within the threshold to another node’s edge or centre, with a guide', () => {
    const others = [box(0, 0), box(400, 300)]
    // left edges 4 px apart, tops far apart
    const r = snapToGuides(box(4, 150), others, 6)
    expect(r).toMatchObject({ x: 0, y: 150 })
    expect(r.guides).toEqual([{ axis: 'x', at: 0, from: 0, to: 206 }])
    // centre to centre on y: 300 + 28 vs 297 + 28
    const m = snapToGuides(box(700, 297), others, 6)
    expect(m).toMatchObject({ x: 700, y: 300 })
    expect(m.guides).toEqual([{ axis: 'y', at: 300, from: 400, to: 908 }])
  })

  it('leave a node alone when nothing is close, and prefer the nearest line', () => {
    expect(snapToGuides(box(250, 150), [box(0, 0)], 6)).toEqual({ x: 250, y: 150, guides: [] })
    // right edge 208 is 5 away from 213's left... the nearer: 210 (2 away) to another's left 208
    const r = snapToGuides(box(210, 500), [box(0, 0), box(205, 900)], 6)
    expect(r.x).toBe(208)
  })
})

describe('align and distribute', () => {
  const nodes: Placed[] = [
    { id: 'a', ...box(0, 0) },
    { id: 'b', ...box(300, 40, 100, 80) },
    { id: 'c', ...box(1000, 10) },
  ]
  const at = (moves: [string, { x: number; y: number }][]) => Object.fromEntries(moves)

  it('lines up edges and centres on the selection’s bounds', () => {
    expect(at(alignMoves(nodes, 'left'))).toEqual({ a: { x: 0, y: 0 }, b: { x: 0, y: 40 }, c: { x: 0, y: 10 } })
    expect(at(alignMoves(nodes, 'right')).b).toEqual({ x: 1108, y: 40 })
    expect(at(alignMoves(nodes, 'center')).b).toEqual({ x: 554, y: 40 })
    expect(at(alignMoves(nodes, 'bottom')).a).toEqual({ x: 0, y: 64 })
    expect(at(alignMoves(nodes, 'middle')).b).toEqual({ x: 300, y: 20 })
    expect(alignMoves(nodes.slice(0, 1), 'left')).toEqual([])
  })

  it('spaces nodes with equal gaps, keeping the first and the last', () => {
    const moves = at(distributeMoves(nodes, 'x'))
    // span 0..1208, sizes 208+100+208 = 516, two gaps of 346
    expect(moves).toEqual({ a: { x: 0, y: 0 }, b: { x: 554, y: 40 }, c: { x: 1000, y: 10 } })
    expect(distributeMoves(nodes.slice(0, 2), 'x')).toEqual([])
  })
})

describe('copy and paste', () => {
  function room() {
    const doc = new Y.Doc()
    const a = addNode(doc, { type: 'app', label: 'API', x: 100, y: 100, params: { instances: 3 } })
    const b = addNode(doc, { type: 'db_primary', label: 'DB', x: 400, y: 100 })
    const c = addNode(doc, { type: 'cache', label: 'Cache', x: 400, y: 300 })
    addEdge(doc, a, b, 'writes')
    addEdge(doc, a, c)
    return { doc, a, b, c }
  }

  it('copies the selected nodes and only the edges between them', () => {
    const { doc, a, b } = room()
    const text = copyPayload(exportDesign(doc), [a, b])!
    const design = parsePayload(text)!
    expect(design.nodes.map((n) => n.label).sort()).toEqual(['API', 'DB'])
    expect(design.edges).toHaveLength(1)
    expect(design.edges[0].label).toBe('writes')
    expect(copyPayload(exportDesign(doc), [])).toBeNull()
  })

  it('pastes into another room with new ids, its corner where asked, edges following, in one undo step', () => {
    const src = room()
    const text = copyPayload(exportDesign(src.doc), [src.a, src.b, src.c])!
    const other = new Y.Doc()
    addNode(other, { type: 'client', x: 0, y: 0 })
    const undo = canvasUndoManager(other)
    const ids = insertDesign(other, parsePayload(text)!, { x: 1000, y: 2000 })
    const design = exportDesign(other)
    expect(design.nodes).toHaveLength(4)
    expect(ids.some((id) => [src.a, src.b, src.c].includes(id))).toBe(false)
    const api = design.nodes.find((n) => n.label === 'API')!
    expect(api).toMatchObject({ x: 1000, y: 2000, params: { instances: 3 } })
    expect(design.nodes.find((n) => n.label === 'Cache')).toMatchObject({ x: 1300, y: 2200 })
    expect(design.edges.map((e) => [e.from === api.id, e.label ?? ''])).toEqual(
      expect.arrayContaining([
        [true, 'writes'],
        [true, ''],
      ]),
    )
    // pasting again gives a second copy; each paste is one undo step
    undo.stopCapturing()
    insertDesign(other, parsePayload(text)!, { x: 0, y: 500 })
    expect(exportDesign(other).nodes).toHaveLength(7)
    undo.undo()
    expect(exportDesign(other).nodes).toHaveLength(4)
    undo.undo()
    expect(exportDesign(other).nodes).toHaveLength(1)
  })

  it('ignores clipboard text that is not a selection, and a damaged one', () => {
    expect(parsePayload('hello')).toBeNull()
    expect(parsePayload(`{"format":"${CLIP_FORMAT}", "nodes": [`)).toBeNull()
    expect(parsePayload(JSON.stringify({ format: 'other', nodes: [], edges: [] }))).toBeNull()
    expect(parsePayload(JSON.stringify({ format: CLIP_FORMAT, nodes: [{ id: 'a' }], edges: [] }))).toBeNull()
  })

  it('replaces a whole design in one undo step (import "replace")', () => {
    const { doc } = room()
    const before = exportDesign(doc)
    const undo = canvasUndoManager(doc)
    replaceDesign(doc, { nodes: [{ id: 'x', type: 'lb', label: 'LB', x: 0, y: 0, params: {} }], edges: [] })
    expect(exportDesign(doc).nodes.map((n) => n.id)).toEqual(['x'])
    undo.undo()
    expect(exportDesign(doc)).toEqual(before)
  })
})
