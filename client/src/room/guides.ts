/**
 * Alignment guides while moving a node (issue 24, item 3), as in Figma, Excalidraw and tldraw: when
 * the node's left edge, centre or right edge (top, middle or bottom) comes within a few pixels of
 * another node's, it snaps there and a guide line shows the alignment. Pure, so it is tested without
 * a canvas; `Canvas` applies it to the dragged node's position and draws the guides.
 */
import type { Box } from './geometry'

export interface Guide {
  /** `x`: a vertical line at x = `at`, from y = `from` to `to`; `y`: a horizontal one. */
  axis: 'x' | 'y'
  at: number
  from: number
  to: number
}

const lines = (start: number, size: number) => [start, start + size / 2, start + size]

/** The smallest shift (within `threshold`) that lines the moving box up with another on one axis. */
function best(moving: number[], others: Box[], axis: 'x' | 'y', threshold: number): { shift: number; at: number; other: Box } | null {
  let found: { shift: number; at: number; other: Box } | null = null
  for (const o of others) {
    const theirs = axis === 'x' ? lines(o.x, o.width) : lines(o.y, o.height)
    for (const m of moving) {
      for (const t of theirs) {
        const shift = t - m
        if (Math.abs(shift) <= threshold && (!found || Math.abs(shift) < Math.abs(found.shift))) found = { shift, at: t, other: o }
      }
    }
  }
  return found
}

/** Where `moving` snaps among `others`, and the guides to draw (at most one per axis). */
export function snapToGuides(moving: Box, others: Box[], threshold: number): { x: number; y: number; guides: Guide[] } {
  const gx = best(lines(moving.x, moving.width), others, 'x', threshold)
  const gy = best(lines(moving.y, moving.height), others, 'y', threshold)
  const x = moving.x + (gx?.shift ?? 0)
  const y = moving.y + (gy?.shift ?? 0)
  const guides: Guide[] = []
  if (gx) {
    guides.push({ axis: 'x', at: gx.at, from: Math.min(y, gx.other.y), to: Math.max(y + moving.height, gx.other.y + gx.other.height) })
  }
  if (gy) {
    guides.push({ axis: 'y', at: gy.at, from: Math.min(x, gy.other.x), to: Math.max(x + moving.width, gy.other.x + gy.other.width) })
  }
  return { x, y, guides }
}
