/**
 * Where an edge runs (issue 24, item 3): between the sides of its two nodes that face each other,
 * so that a connection to a node on the left leaves from the left instead of looping round from the
 * right, and one to a node below leaves from the bottom. The canvas's edge (`edges.tsx`) and the
 * exported picture (`svgExport.ts`) both draw from here, so a picture shows the edges as the canvas
 * does.
 */
import { getBezierPath, Position } from '@xyflow/react'

export interface Box {
  x: number
  y: number
  width: number
  height: number
}

export interface EdgeGeometry {
  /** SVG path data: one cubic bezier, as React Flow's default edge. */
  d: string
  sourcePosition: Position
  targetPosition: Position
  label: { x: number; y: number }
  /** The curve's end and control points: the curve lies inside their hull (for bounds). */
  points: { x: number; y: number }[]
}

/** The gap between two boxes along one axis (negative when they overlap on it). */
function gap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(b0 - a1, a0 - b1)
}

/**
 * The facing sides: left/right when the boxes are further apart across than down (measured between
 * their edges, not their centres, since nodes are wide), top/bottom otherwise.
 */
export function facingSides(s: Box, t: Box): { from: Position; to: Position } {
  const gx = gap(s.x, s.x + s.width, t.x, t.x + t.width)
  const gy = gap(s.y, s.y + s.height, t.y, t.y + t.height)
  const dx = t.x + t.width / 2 - (s.x + s.width / 2)
  const dy = t.y + t.height / 2 - (s.y + s.height / 2)
  const across = gx > 0 || gy > 0 ? gx >= gy : Math.abs(dx) / Math.max(1, s.width) >= Math.abs(dy) / Math.max(1, s.height)
  if (across) return dx >= 0 ? { from: Position.Right, to: Position.Left } : { from: Position.Left, to: Position.Right }
  return dy >= 0 ? { from: Position.Bottom, to: Position.Top } : { from: Position.Top, to: Position.Bottom }
}

/** The middle of a box's side. */
export function anchor(b: Box, side: Position): { x: number; y: number } {
  switch (side) {
    case Position.Left:
      return { x: b.x, y: b.y + b.height / 2 }
    case Position.Right:
      return { x: b.x + b.width, y: b.y + b.height / 2 }
    case Position.Top:
      return { x: b.x + b.width / 2, y: b.y }
    case Position.Bottom:
      return { x: b.x + b.width / 2, y: b.y + b.height }
  }
}

const NUMBER = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi

/** The edge from `s` to `t`: React Flow's bezier between the facing sides. */
export function edgeGeometry(s: Box, t: Box): EdgeGeometry {
  const { from, to } = facingSides(s, t)
  const a = anchor(s, from)
  const b = anchor(t, to)
  const [d, lx, ly] = getBezierPath({ sourceX: a.x, sourceY: a.y, sourcePosition: from, targetX: b.x, targetY: b.y, targetPosition: to })
  // "M sx,sy C c1x,c1y c2x,c2y tx,ty": the four points, read back from the path React Flow made
  const n = (d.match(NUMBER) ?? []).map(Number)
  const points = [0, 2, 4, 6].map((i) => ({ x: n[i], y: n[i + 1] }))
  return { d, sourcePosition: from, targetPosition: to, label: { x: lx, y: ly }, points }
}
