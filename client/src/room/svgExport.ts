/**
 * The design as a picture (issue 24, item 1): real SVG drawn from the design itself, not a copy of
 * the screen. Nodes are rounded rectangles with their icon, label, type and key parameters; edges are
 * the canvas's curves with their arrowheads and labels. What the screen also shows and a picture of
 * the design must not (other participants' cursors and selection rings, handles, the minimap, the
 * reference ghost) is simply never drawn, so an export cannot leak presence. Edges run where the
 * canvas runs them (`geometry.ts`).
 *
 * The PNG is this SVG rasterised at 2× (via an `<img>` of a blob URL, which the CSP's
 * `img-src blob:` allows), and "copy as image" puts that PNG on the clipboard.
 *
 * `designScene` gathers geometry and text; `sceneSvg` turns a scene into SVG text. Both are pure, so
 * tests check them without a browser; only `measureText` and `svgToPng` need one.
 */
import { NODE_WIDTH } from '../flow'
import { familyColor, glyphPaths } from '../icons'
import { keyParams, type Catalog } from '../catalog'
import { instancesOf, type Design, type DesignNode } from '../schema'
import { edgeGeometry, type Box } from './geometry'

export type { Box }

export interface SceneNode {
  id: string
  note: boolean
  box: Box
  /** Component: label, type line, parameters line. Note: its wrapped lines. */
  lines: string[]
  /** Fill of the icon tile (components only). */
  color: string
  /** Path data of the icon glyph in a 24×24 box (components only). */
  glyph: string[]
  count: number
  /** The type is not in the catalog: drawn dashed, as on the canvas. */
  unknown: boolean
}

export interface SceneEdge {
  id: string
  d: string
  label: string
  labelAt: { x: number; y: number }
}

export interface Scene {
  nodes: SceneNode[]
  edges: SceneEdge[]
  /** The drawing's extent in canvas coordinates, margin included. */
  view: Box
}

/** The colours of the current theme, read from the page's CSS variables. */
export interface Theme {
  background: string
  panel: string
  text: string
  muted: string
  border: string
  edge: string
  accent: string
  accentText: string
  font: string
  mono: string
}

export const LIGHT: Theme = {
  background: '#fbfcfe',
  panel: '#ffffff',
  text: '#1b1f2a',
  muted: '#5d6578',
  border: '#dde1ea',
  edge: '#8a94a8',
  accent: '#4f46e5',
  accentText: '#ffffff',
  font: "ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif",
  mono: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace",
}

/** Measures a string in a CSS font; the fallback guesses from the character count (tests, no canvas). */
export type Measure = (text: string, font: string) => number

const MARGIN = 32
const COMPONENT_HEIGHT = 56
const NOTE_HEIGHT = 64
const LABEL_FONT = 14
const SMALL_FONT = 11
const EDGE_FONT = 11

export const guessWidth: Measure = (text, font) => {
  const size = Number(/(\d+(?:\.\d+)?)px/.exec(font)?.[1] ?? 14)
  return text.length * size * 0.58
}

/** Cuts `text` to fit `width`, ending in an ellipsis as the canvas's CSS does. */
export function fit(text: string, width: number, font: string, measure: Measure): string {
  if (measure(text, font) <= width) return text
  let lo = 0
  let hi = text.length
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (measure(text.slice(0, mid) + '…', font) <= width) lo = mid
    else hi = mid - 1
  }
  return text.slice(0, lo).trimEnd() + '…'
}

/** Breaks a note's text into lines of at most `width`, keeping its own line breaks. */
export function wrap(text: string, width: number, font: string, measure: Measure): string[] {
  const out: string[] = []
  for (const para of text.split('\n')) {
    let line = ''
    for (const word of para.split(/(\s+)/)) {
      const next = line + word
      if (line && measure(next.trimEnd(), font) > width) {
        out.push(line.trimEnd())
        line = word.trimStart()
      } else {
        line = next
      }
    }
    out.push(line.trimEnd())
  }
  return out
}

/**
 * The scene of a design: every node at its place and size (`boxes`: the canvas's measured sizes,
 * missing ones get the standard size), every edge between two drawn nodes, and the bounds of it all.
 */
export function designScene(
  design: Design,
  catalog: Catalog,
  opts: { boxes?: Map<string, Box>; theme?: Theme; measure?: Measure } = {},
): Scene {
  const theme = opts.theme ?? LIGHT
  const measure = opts.measure ?? guessWidth
  const nodes: SceneNode[] = design.nodes.map((n) => sceneNode(n, catalog, theme, measure, opts.boxes?.get(n.id)))
  const byId = new Map(nodes.map((n) => [n.id, n]))
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  const grow = (x: number, y: number) => {
    minX = Math.min(minX, x)
    minY = Math.min(minY, y)
    maxX = Math.max(maxX, x)
    maxY = Math.max(maxY, y)
  }
  for (const n of nodes) {
    grow(n.box.x, n.box.y - (n.count > 1 ? 10 : 0))
    grow(n.box.x + n.box.width + (n.count > 1 ? 10 : 0), n.box.y + n.box.height)
  }
  const edges: SceneEdge[] = []
  for (const e of design.edges) {
    const from = byId.get(e.from)
    const to = byId.get(e.to)
    if (!from || !to) continue
    const curve = edgeGeometry(from.box, to.box)
    // A curve lies inside the hull of its control points: they bound it.
    for (const p of curve.points) grow(p.x, p.y)
    const label = (e.label ?? '').trim()
    if (label) {
      const w = measure(label, `${EDGE_FONT}px ${theme.font}`) / 2 + 6
      grow(curve.label.x - w, curve.label.y - 10)
      grow(curve.label.x + w, curve.label.y + 10)
    }
    edges.push({ id: e.id, d: curve.d, label, labelAt: curve.label })
  }
  if (nodes.length === 0) {
    minX = minY = 0
    maxX = maxY = 0
  }
  return {
    nodes,
    edges,
    view: { x: minX - MARGIN, y: minY - MARGIN, width: maxX - minX + 2 * MARGIN, height: maxY - minY + 2 * MARGIN },
  }
}

function sceneNode(n: DesignNode, catalog: Catalog, theme: Theme, measure: Measure, measured?: Box): SceneNode {
  const note = n.type === 'note'
  const box = {
    x: n.x,
    y: n.y,
    width: measured?.width || NODE_WIDTH,
    height: measured?.height || (note ? NOTE_HEIGHT : COMPONENT_HEIGHT),
  }
  if (note) {
    const lines = wrap(n.label, box.width - 24, `13px ${theme.font}`, measure)
    // A note grows with its text on the canvas; without a measured size, grow it here too.
    if (!measured) box.height = Math.max(NOTE_HEIGHT, 20 + lines.length * 17)
    return { id: n.id, note, box, lines, color: '', glyph: [], count: 1, unknown: false }
  }
  const def = catalog.get(n.type)
  const name = catalog.name(n.type)
  const label = n.label || name
  const textWidth = box.width - 20 - 36 - 10
  const typeLine = (n.label && n.label !== name ? `${name} · ` : '') + n.type
  const params = keyParams(def, n.params).join(' · ')
  const lines = [
    fit(label, textWidth, `600 ${LABEL_FONT}px ${theme.font}`, measure),
    fit(typeLine, textWidth, `${SMALL_FONT}px ${theme.font}`, measure),
  ]
  if (params) lines.push(fit(params, textWidth, `10px ${theme.mono}`, measure))
  return {
    id: n.id,
    note,
    box,
    lines,
    color: familyColor(def?.family),
    glyph: glyphPaths(def?.icon, n.type, def?.family),
    count: instancesOf(n),
    unknown: Boolean(catalog.components.length > 0 && !def),
  }
}

/** Escapes text for SVG character data and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`)
}

const r = (v: number) => Math.round(v * 100) / 100

/**
 * The scene as a standalone SVG document: one `<path class="tb-edge">` per edge (with the arrowhead
 * as a marker), one `<g class="tb-node">` per node, and edge labels on top. Attributes only, no CSS,
 * so that any viewer (and the `<img>` that rasterises it) draws it the same.
 */
export function sceneSvg(scene: Scene, theme: Theme = LIGHT, measure: Measure = guessWidth): string {
  const { view } = scene
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${r(view.width)}" height="${r(view.height)}" ` +
      `viewBox="${r(view.x)} ${r(view.y)} ${r(view.width)} ${r(view.height)}" font-family="${esc(theme.font)}">`,
  )
  out.push('<title>tierboard design</title>')
  // React Flow's closed arrow, sized in canvas pixels like the canvas's 18 × 18 marker.
  out.push(
    '<defs><marker id="tb-arrow" viewBox="-10 -10 20 20" markerWidth="18" markerHeight="18" markerUnits="userSpaceOnUse" ' +
      `orient="auto-start-reverse" refX="0" refY="0"><polyline points="-5,-4 0,0 -5,4 -5,-4" fill="${esc(theme.edge)}" ` +
      `stroke="${esc(theme.edge)}" stroke-width="1" stroke-linecap="round" stroke-linejoin="round"/></marker></defs>`,
  )
  out.push(
    `<rect class="tb-background" x="${r(view.x)}" y="${r(view.y)}" width="${r(view.width)}" height="${r(view.height)}" fill="${esc(theme.background)}"/>`,
  )
  out.push('<g class="tb-edges">')
  for (const e of scene.edges) {
    out.push(
      `<path class="tb-edge" data-id="${esc(e.id)}" d="${e.d}" fill="none" stroke="${esc(theme.edge)}" stroke-width="1.8" marker-end="url(#tb-arrow)"/>`,
    )
  }
  out.push('</g><g class="tb-nodes">')
  for (const n of scene.nodes) out.push(n.note ? noteSvg(n) : componentSvg(n, theme))
  out.push('</g><g class="tb-edge-labels">')
  for (const e of scene.edges) {
    if (!e.label) continue
    const w = measure(e.label, `${EDGE_FONT}px ${theme.font}`) + 10
    out.push(
      `<g class="tb-edge-label" transform="translate(${r(e.labelAt.x)} ${r(e.labelAt.y)})">` +
        `<rect x="${r(-w / 2)}" y="-9" width="${r(w)}" height="18" rx="3" fill="${esc(theme.panel)}"/>` +
        `<text text-anchor="middle" dominant-baseline="central" font-size="${EDGE_FONT}" fill="${esc(theme.text)}">${esc(e.label)}</text></g>`,
    )
  }
  out.push('</g></svg>')
  return out.join('\n')
}

function componentSvg(n: SceneNode, theme: Theme): string {
  const { x, y, width, height } = n.box
  const tileY = (height - 36) / 2
  const parts = [
    `<g class="tb-node" data-id="${esc(n.id)}" transform="translate(${r(x)} ${r(y)})">`,
    `<rect width="${r(width)}" height="${r(height)}" rx="12" fill="${esc(theme.panel)}" stroke="${esc(theme.border)}" stroke-width="1.5"${n.unknown ? ' stroke-dasharray="5 4"' : ''}/>`,
    `<rect x="10" y="${r(tileY)}" width="36" height="36" rx="9" fill="${esc(n.color)}"/>`,
    // The 24-unit glyph at 22 px, centred in the tile, white strokes as on the canvas.
    `<g transform="translate(17 ${r(tileY + 7)}) scale(${22 / 24})" fill="none" stroke="#ffffff" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">`,
    ...n.glyph.map((d) => `<path d="${esc(d)}"/>`),
    '</g>',
  ]
  // Text lines centred vertically as the canvas's flex box does: 18 px for the label, 14 for others.
  const heights = n.lines.map((_, i) => (i === 0 ? 18 : 14))
  let ty = (height - heights.reduce((a, b) => a + b, 0)) / 2
  n.lines.forEach((line, i) => {
    const attrs =
      i === 0
        ? `font-size="${LABEL_FONT}" font-weight="600" fill="${esc(theme.text)}"`
        : i === 1
          ? `font-size="${SMALL_FONT}" fill="${esc(theme.muted)}"`
          : `font-size="10" font-family="${esc(theme.mono)}" fill="${esc(theme.muted)}"`
    parts.push(`<text x="56" y="${r(ty + heights[i] / 2)}" dominant-baseline="central" ${attrs}>${esc(line)}</text>`)
    ty += heights[i]
  })
  if (n.count > 1) {
    const text = `× ${n.count}`
    const w = 14 + text.length * 7
    parts.push(
      `<g class="tb-count" transform="translate(${r(width + 9 - w)} -9)"><rect width="${r(w)}" height="18" rx="9" fill="${esc(theme.accent)}"/>` +
        `<text x="${r(w / 2)}" y="9" text-anchor="middle" dominant-baseline="central" font-size="11" font-weight="700" fill="${esc(theme.accentText)}">${esc(text)}</text></g>`,
    )
  }
  parts.push('</g>')
  return parts.join('')
}

function noteSvg(n: SceneNode): string {
  const { x, y, width, height } = n.box
  const parts = [
    `<g class="tb-node tb-note" data-id="${esc(n.id)}" transform="translate(${r(x)} ${r(y)})">`,
    `<rect width="${r(width)}" height="${r(height)}" rx="4" fill="#fef9c3" stroke="#facc15"/>`,
  ]
  n.lines.forEach((line, i) => {
    parts.push(
      `<text x="12" y="${r(10 + 17 * i + 8.5)}" dominant-baseline="central" font-size="13" fill="#3f3a12" xml:space="preserve">${esc(line)}</text>`,
    )
  })
  parts.push('</g>')
  return parts.join('')
}
