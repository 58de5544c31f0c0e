// @vitest-environment jsdom
// The design as a picture (issue 24, item 1): real SVG shapes and text drawn from the design, edges
// as the canvas draws them (React Flow's own bezier), arrowheads and labels, and nothing else.
import { describe, expect, it } from 'vitest'
import { Position } from '@xyflow/react'
import { Catalog } from '../catalog'
import type { Design } from '../schema'
import { edgeGeometry, facingSides } from './geometry'
import { designScene, fit, guessWidth, sceneSvg, wrap } from './svgExport'

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
    // to a node on the left and below
    { id: 'e2', from: 'b', to: 'c' },
    { id: 'e3', from: 'b', to: 'gone' },
  ],
}

function parse(svg: string): Document {
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml')
  expect(doc.querySelector('parsererror')).toBeNull()
  return doc
}

describe('edges between the sides that face each other', () => {
  const box = (x: number, y: number) => ({ x, y, width: 208, height: 56 })

  it('leave to the right, the left, downwards or upwards, whichever way the other node is', () => {
    expect(facingSides(box(0, 0), box(320, 40))).toEqual({ from: Position.Right, to: Position.Left })
    expect(facingSides(box(320, 40), box(0, 0))).toEqual({ from: Position.Left, to: Position.Right })
    // wide nodes: 150 px across but 200 px down is a vertical link, though the centres differ more across
    expect(facingSides(box(0, 0), box(150, 256))).toEqual({ from: Position.Bottom, to: Position.Top })
    expect(facingSides(box(150, 256), box(0, 0))).toEqual({ from: Position.Top, to: Position.Bottom })
    // overlapping boxes still get a side
    expect(facingSides(box(0, 0), box(30, 10))).toEqual({ from: Position.Bottom, to: Position.Top })
    expect(facingSides(box(0, 0), box(60, 5))).toEqual({ from: Position.Right, to: Position.Left })
  })

  it('do not loop round a node on the left: the curve stays between the two', () => {
    const s = box(640, 0)
    const t = box(0, 200)
    const g = edgeGeometry(s, t)
    expect(g.d.startsWith('M640,28 C')).toBe(true)
    for (const p of g.points) {
      expect(p.x).toBeGreaterThanOrEqual(208)
      expect(p.x).toBeLessThanOrEqual(640)
    }
    expect(g.label.x).toBeGreaterThan(208)
    expect(g.label.x).toBeLessThan(640)
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

  it('spans every node and every curve', () => {
    const [x, y, w, h] = doc.documentElement.getAttribute('viewBox')!.split(' ').map(Number)
    expect(x).toBeLessThanOrEqual(-300 - 32)
    expect(x + w).toBeGreaterThanOrEqual(320 + 208 + 32)
    expect(y + h).toBeGreaterThanOrEqual(300 + 64)
    for (const e of scene.edges) {
      const xs = e.d.match(/-?[\d.]+(?=,)/g)!.map(Number)
      expect(Math.max(...xs)).toBeLessThanOrEqual(x + w)
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(x)
    }
    expect(Number(doc.documentElement.getAttribute('width'))).toBe(w)
  })

  it('uses the sizes the canvas measured', () => {
    const big = designScene(design, catalog, { boxes: new Map([['a', { x: 0, y: 0, width: 300, height: 90 }]]) })
    expect(big.nodes[0].box).toEqual({ x: 0, y: 0, width: 300, height: 90 })
    expect(big.edges[0].d.startsWith('M300,45 ')).toBe(true)
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
