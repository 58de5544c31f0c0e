/** Export of the design as JSON, PNG and SVG, and import of a design JSON. */
import { getNodesBounds, getViewportForBounds, type Node } from '@xyflow/react'
import { toPng, toSvg } from 'html-to-image'
import type * as Y from 'yjs'
import { exportDesign, importDesign, parseDesign } from '../schema'

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

/** Renders the whole design (not just the visible part) to an image, the way React Flow's docs do. */
export async function exportImage(kind: 'png' | 'svg', nodes: Node[], base: string): Promise<void> {
  const el = document.querySelector<HTMLElement>('.react-flow__viewport')
  if (!el || nodes.length === 0) return
  const bounds = getNodesBounds(nodes)
  const width = Math.min(4096, Math.max(640, Math.ceil(bounds.width + 160)))
  const height = Math.min(4096, Math.max(400, Math.ceil(bounds.height + 160)))
  const vp = getViewportForBounds(bounds, width, height, 0.1, 2, 0.1)
  const bg = getComputedStyle(document.documentElement).getPropertyValue('--canvas-bg').trim() || '#ffffff'
  const opts = {
    backgroundColor: bg,
    width,
    height,
    style: { width: `${width}px`, height: `${height}px`, transform: `translate(${vp.x}px, ${vp.y}px) scale(${vp.zoom})` },
  }
  const url = kind === 'png' ? await toPng(el, opts) : await toSvg(el, opts)
  download(`${base}.${kind}`, url)
}

/** Reads a design file and writes it into the (empty) room; throws a sentence on bad input. */
export async function importFile(doc: Y.Doc, file: File): Promise<number> {
  if (file.size > 16 * 1024 * 1024) throw new Error('the file is larger than 16 MB')
  let value: unknown
  try {
    value = JSON.parse(await file.text())
  } catch {
    throw new Error(`${file.name} is not JSON`)
  }
  const design = parseDesign(value)
  importDesign(doc, design)
  return design.nodes.length
}
