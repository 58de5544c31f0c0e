/**
 * Export of the design as JSON, SVG and PNG (drawn by ./svgExport.ts), copy as image, and import of
 * a design JSON.
 */
import type { Node } from '@xyflow/react'
import type * as Y from 'yjs'
import type { Catalog } from '../catalog'
import { NODE_WIDTH } from '../flow'
import { exportDesign, importDesign, parseDesign, type Design } from '../schema'
import { insertDesign } from './pasting'
import { designScene, guessWidth, LIGHT, sceneSvg, type Box, type Measure, type Theme } from './svgExport'

export function download(name: string, href: string): void {
  const a = document.createElement('a')
  a.href = href
  a.download = name
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
}

export function exportJson(doc: Y.Doc, base: string): void {
  const blob = new Blob([JSON.stringify(exportDesign(doc), null, 2) + '\n'], { type: 'application/json' })
  const url = URL.createObjectURL(blob)
  download(`${base}.json`, url)
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/**
 * The design as SVG text, drawn from the document (every node, visible or not) with the sizes the
 * canvas measured, in the current theme's colours. Never a copy of the screen: no presence in it.
 */
export function designSvg(doc: Y.Doc, flowNodes: Node[], catalog: Catalog): { svg: string; width: number; height: number } {
  const boxes = new Map<string, Box>()
  for (const n of flowNodes) {
    const w = n.measured?.width
    const h = n.measured?.height
    if (w && h) boxes.set(n.id, { x: n.position.x, y: n.position.y, width: w, height: h })
  }
  const theme = currentTheme()
  const measure = canvasMeasure()
  const scene = designScene(exportDesign(doc), catalog, { boxes, theme, measure })
  return { svg: sceneSvg(scene, theme, measure), width: scene.view.width, height: scene.view.height }
}

/** The theme's colours, from the CSS variables of the page (light or dark, as the user sees it). */
export function currentTheme(): Theme {
  const css = getComputedStyle(document.documentElement)
  const flow = document.querySelector('.react-flow')
  const v = (name: string, fallback: string, style: CSSStyleDeclaration = css) => style.getPropertyValue(name).trim() || fallback
  return {
    background: v('--canvas-bg', LIGHT.background),
    panel: v('--panel', LIGHT.panel),
    text: v('--text', LIGHT.text),
    muted: v('--muted', LIGHT.muted),
    border: v('--border', LIGHT.border),
    edge: v('--xy-edge-stroke', LIGHT.edge, flow ? getComputedStyle(flow) : css),
    accent: v('--accent', LIGHT.accent),
    accentText: v('--accent-text', LIGHT.accentText),
    font: v('--font', LIGHT.font),
    mono: v('--mono', LIGHT.mono),
  }
}

/** Text widths from a 2D canvas in the page's fonts, so that cut labels fit as on the canvas. */
function canvasMeasure(): Measure {
  const ctx = document.createElement('canvas').getContext('2d')
  if (!ctx) return guessWidth
  return (text, font) => {
    ctx.font = font
    return ctx.measureText(text).width
  }
}

/** Browsers refuse canvases much beyond 16k pixels a side: a huge design gets a smaller scale. */
const MAX_SIDE = 16_384

/** Rasterises SVG text to a PNG at `scale` (2 for sharp pictures on high-density screens). */
export async function svgToPng(svg: string, width: number, height: number, scale = 2): Promise<Blob> {
  const s = Math.min(scale, MAX_SIDE / Math.max(width, height, 1))
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }))
  try {
    const img = new Image()
    img.src = url
    await img.decode()
    const canvas = document.createElement('canvas')
    canvas.width = Math.round(width * s)
    canvas.height = Math.round(height * s)
    const ctx = canvas.getContext('2d')
    if (!ctx) throw new Error('this browser cannot draw on a canvas')
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height)
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the picture is too large to encode'))), 'image/png'),
    )
  } finally {
    URL.revokeObjectURL(url)
  }
}

function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob)
  download(name, url)
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

export async function exportImage(kind: 'png' | 'svg', doc: Y.Doc, flowNodes: Node[], catalog: Catalog, base: string): Promise<void> {
  const { svg, width, height } = designSvg(doc, flowNodes, catalog)
  if (kind === 'svg') downloadBlob(`${base}.svg`, new Blob([svg], { type: 'image/svg+xml' }))
  else downloadBlob(`${base}.png`, await svgToPng(svg, width, height))
}

/** Puts the 2× PNG on the clipboard (the promise form keeps the click's permission while it renders). */
export async function copyImage(doc: Y.Doc, flowNodes: Node[], catalog: Catalog): Promise<void> {
  if (!navigator.clipboard?.write || typeof ClipboardItem === 'undefined') {
    throw new Error('this browser cannot put images on the clipboard (it needs https)')
  }
  const { svg, width, height } = designSvg(doc, flowNodes, catalog)
  await navigator.clipboard.write([new ClipboardItem({ 'image/png': svgToPng(svg, width, height) })])
}

/** Reads a design file; throws a sentence on bad input. */
export async function readDesignFile(file: File): Promise<Design> {
  if (file.size > 16 * 1024 * 1024) throw new Error('the file is larger than 16 MB')
  let value: unknown
  try {
    value = JSON.parse(await file.text())
  } catch {
    throw new Error(`${file.name} is not JSON`)
  }
  return parseDesign(value)
}

/** Reads a design file and writes it into the (empty) room; throws a sentence on bad input. */
export async function importFile(doc: Y.Doc, file: File): Promise<number> {
  const design = await readDesignFile(file)
  importDesign(doc, design)
  return design.nodes.length
}

/**
 * Adds an imported design beside the room's own (import "merge"): new ids, its top-left corner a
 * little right of the existing design, level with its top. Returns the new node ids.
 */
export function mergeDesign(doc: Y.Doc, design: Design): string[] {
  const own = exportDesign(doc).nodes
  const at = own.length ? { x: Math.max(...own.map((n) => n.x)) + NODE_WIDTH + 160, y: Math.min(...own.map((n) => n.y)) } : { x: 0, y: 0 }
  return insertDesign(doc, design, at)
}
