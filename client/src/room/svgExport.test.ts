// @vitest-environment jsdom
// The design as a picture (issue 24, item 1): real SVG shapes and text drawn from the design, edges
// as the canvas draws them (React Flow's own bezier), arrowheads and labels, and nothing else.
import { describe, expect, it } from 'vitest'
import { getBezierPath, Position } from '@xyflow/react'
import { Catalog } from '../catalog'
import type { Design } from '../schema'
import { bezier, designScene, fit, guessWidth, sceneSvg, wrap } from './svgExport'

const catalog = new Catalog([
  { type: 'lb', name: 'Load Balancer', family: 'network', icon: 'scale', params: [] },
  { type: 'app', name: 'App Server', family: 'compute', icon: 'cpu', params: [] },
  { type: 'db_primary', name: 'Primary Database', family: 'storage', icon: 'database', params: [] },
] as unknown as ConstructorParameters<typeof Catalog>[0])

const design: Design = {
  nodes: [
    { id: 'a', type: 'lb', label: 'Load Balancer', x: 0, y: 0, params: {} },
    { id: 'b', type: 'app', label: 'Web <b> & "x"', x: 320, y: 0, params: { instances: 4 } },
    { id: 'c', type: 'db_primary', label: '', x: -300, y: 200, params: {} },
    { id: 'n', type: 'note', label: 'Reads go to replicas\nwrites to the primary', x: 0, y: 300, params: {} },
  ],
  edges: [
    { id: 'e1', from: 'a', to: 'b', label: 'HTTPS' },
    // to a node on the left: the curve bulges beyond both nodes
    { id: 'e2', from: 'b', to: 'c' },
    { id: 'e3', from: 'b', to: 'gone' },
  ],
}

function parse(svg: string): Document {
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml')
  expect(doc.querySelector('parsererror')).toBeNull()
  return doc
}

describe('edges as the canvas draws them', () => {
  it('match React Flow getBezierPath from a right handle to a left handle, forwards and backwards', () => {
    for (const [sx, sy, tx, ty] of [
      [213, 28, 315, 28],
      [533, 28, -305, 228],
      [0, 0, 0, 500],
      [10.5, 3, -2, -40],
    ]) {
      const [d, lx, ly] = getBezierPath({
        sourceX: sx,
        sourceY: sy,
        sourcePosition: Position.Right,
        targetX: tx,
        targetY: ty,
        targetPosition: Position.Left,
      })
      const ours = bezier(sx, sy, tx, ty)
      expect(ours.d).toBe(d)
      expect(ours.label.x).toBeCloseTo(lx)
      expect(ours.label.y).toBeCloseTo(ly)
    }
  })
})

describe('the exported SVG', () => {
  const scene = designScene(design, catalog)
  const doc = parse(sceneSvg(scene))

  it('has one path with an arrowhead per edge between existing nodes, and no foreignObject', () => {
    const paths = [...doc.querySelectorAll('path.tb-edge')]
    expect(paths.map((p) => p.getAttribute('data-id'))).toEqual(['e1', 'e2'])
    for (const p of paths) {
      expect(p.getAttribute('marker-end')).toBe('url(#tb-arrow)')
      expect(p.getAttribute('d')).toMatch(/^M[-\d.]+,[-\d.]+ C/)
    }
    expect(doc.querySelector('marker#tb-arrow polyline')).not.toBeNull()
    expect(doc.querySelector('foreignObject, image, script, style')).toBeNull()
  })

  it('draws every node with its text, and edge labels', () => {
    expect(doc.querySelectorAll('g.tb-node')).toHaveLength(4)
    const texts = [...doc.querySelectorAll('text')].map((t) => t.textContent)
    // escaped in the file, the same text when read back
    expect(texts).toEqual(expect.arrayContaining(['Load Balancer', 'Web <b> & "x"', 'Primary Database', 'db_primary', '× 4', 'HTTPS']))
    expect(texts).toEqual(expect.arrayContaining(['Reads go to replicas', 'writes to the primary']))
    expect(doc.querySelector('g.tb-node[data-id="b"] g path')).not.toBeNull()
  })

  it('spans every node and the curve that loops back to the left', () => {
    const [x, y, w, h] = doc.documentElement.getAttribute('viewBox')!.split(' ').map(Number)
    expect(x).toBeLessThanOrEqual(-300 - 32)
    expect(x + w).toBeGreaterThanOrEqual(320 + 208 + 32)
    expect(y + h).toBeGreaterThanOrEqual(300 + 64)
    // e2 runs from b's right side (x 533) back to c's left side (x -305): its controls stay inside
    const e2 = scene.edges.find((e) => e.id === 'e2')!
    const xs = e2.d.match(/-?[\d.]+(?=,)/g)!.map(Number)
    expect(Math.max(...xs)).toBeLessThanOrEqual(x + w)
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(x)
    expect(Number(doc.documentElement.getAttribute('width'))).toBe(w)
  })

  it('uses the sizes the canvas measured', () => {
    const big = designScene(design, catalog, { boxes: new Map([['a', { x: 0, y: 0, width: 300, height: 90 }]]) })
    expect(big.nodes[0].box).toEqual({ x: 0, y: 0, width: 300, height: 90 })
    expect(big.edges[0].d.startsWith('M305,45 ')).toBe(true)
  })

  it('is an empty picture for an empty design', () => {
    const empty = parse(sceneSvg(designScene({ nodes: [], edges: [] }, catalog)))
    expect(empty.querySelectorAll('path.tb-edge, g.tb-node')).toHaveLength(0)
  })
})

describe('text that fits', () => {
  it('cuts a long label with an ellipsis within the width', () => {
    const font = '14px sans-serif'
    const cut = fit('An extremely long component label that cannot fit', 120, font, guessWidth)
    expect(cut.endsWith('…')).toBe(true)
    expect(guessWidth(cut, font)).toBeLessThanOrEqual(120)
    expect(fit('Short', 120, font, guessWidth)).toBe('Short')
  })

  it('wraps a note by words and keeps its line breaks', () => {
    const lines = wrap('one two three four five six seven\n\nlast', 80, '13px sans-serif', guessWidth)
    expect(lines.every((l) => guessWidth(l, '13px sans-serif') <= 80 || !l.includes(' '))).toBe(true)
    expect(lines.join(' ').replace(/\s+/g, ' ')).toBe('one two three four five six seven last')
    expect(lines).toContain('')
  })
})
