/**
 * Copy and paste of a selection with its edges (issue 24, item 3), also between rooms and tabs: the
 * clipboard carries the selection as JSON text in the design format with a `format` marker, which
 * any room can read back; and merging an imported design into a room that already has one. Pasted
 * nodes get new ids, so pasting twice gives two copies, and edges follow their nodes.
 */
import type * as Y from 'yjs'
import { addDesign, newId, parseDesign, type Design, type DesignEdge, type DesignNode } from '../schema'

export const CLIP_FORMAT = 'tierboard/selection'

/** The selected nodes and the edges between them, as clipboard text; null when nothing is selected. */
export function copyPayload(design: Design, ids: Iterable<string>): string | null {
  const keep = new Set(ids)
  const nodes = design.nodes.filter((n) => keep.has(n.id))
  if (nodes.length === 0) return null
  const edges = design.edges.filter((e) => keep.has(e.from) && keep.has(e.to))
  return JSON.stringify({ format: CLIP_FORMAT, version: 1, nodes, edges })
}

/** A selection read from clipboard text, or null when the text is something else (plain text). */
export function parsePayload(text: string): Design | null {
  if (!text.includes(CLIP_FORMAT)) return null
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof v !== 'object' || v === null || (v as { format?: unknown }).format !== CLIP_FORMAT) return null
  try {
    return parseDesign(v)
  } catch (e) {
    console.warn('tierboard: ignoring a pasted selection that is not a valid design', e)
    return null
  }
}

/** The top-left corner of a design's nodes. */
export function corner(design: Design): { x: number; y: number } {
  return {
    x: Math.min(...design.nodes.map((n) => n.x)),
    y: Math.min(...design.nodes.map((n) => n.y)),
  }
}

/**
 * Adds a design's nodes (new ids) and its edges to the room in one transaction (one undo step),
 * its top-left corner moved to `at`. Returns the new node ids.
 */
export function insertDesign(doc: Y.Doc, design: Design, at: { x: number; y: number }): string[] {
  if (design.nodes.length === 0) return []
  const from = corner(design)
  const dx = Math.round(at.x - from.x)
  const dy = Math.round(at.y - from.y)
  const ids = new Map<string, string>()
  const nodes: DesignNode[] = design.nodes.map((n) => {
    const id = newId()
    ids.set(n.id, id)
    return { ...n, id, x: n.x + dx, y: n.y + dy }
  })
  const edges: DesignEdge[] = []
  for (const e of design.edges) {
    const from = ids.get(e.from)
    const to = ids.get(e.to)
    if (from && to) edges.push({ ...e, id: newId(), from, to })
  }
  addDesign(doc, { nodes, edges })
  return nodes.map((n) => n.id)
}
