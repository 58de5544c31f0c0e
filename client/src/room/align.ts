/**
 * Align and distribute a selection (issue 24, item 3), as drawing tools do: align lines up the
 * nodes' left edges, centres or right edges (tops, middles, bottoms) on the selection's; distribute
 * spaces them with equal gaps between the first and the last, which stay put.
 */
import type { Box } from './geometry'

export type Align = 'left' | 'center' | 'right' | 'top' | 'middle' | 'bottom'
export type Placed = Box & { id: string }
export type Move = [string, { x: number; y: number }]

export function alignMoves(nodes: Placed[], how: Align): Move[] {
  if (nodes.length < 2) return []
  const left = Math.min(...nodes.map((n) => n.x))
  const right = Math.max(...nodes.map((n) => n.x + n.width))
  const top = Math.min(...nodes.map((n) => n.y))
  const bottom = Math.max(...nodes.map((n) => n.y + n.height))
  return nodes.map((n) => {
    let { x, y } = n
    if (how === 'left') x = left
    else if (how === 'right') x = right - n.width
    else if (how === 'center') x = (left + right) / 2 - n.width / 2
    else if (how === 'top') y = top
    else if (how === 'bottom') y = bottom - n.height
    else y = (top + bottom) / 2 - n.height / 2
    return [n.id, { x: Math.round(x), y: Math.round(y) }]
  })
}

export function distributeMoves(nodes: Placed[], axis: 'x' | 'y'): Move[] {
  if (nodes.length < 3) return []
  const pos = (n: Placed) => (axis === 'x' ? n.x : n.y)
  const size = (n: Placed) => (axis === 'x' ? n.width : n.height)
  const sorted = [...nodes].sort((a, b) => pos(a) - pos(b) || a.id.localeCompare(b.id))
  const first = sorted[0]
  const last = sorted[sorted.length - 1]
  const span = pos(last) + size(last) - pos(first)
  const gap = (span - sorted.reduce((s, n) => s + size(n), 0)) / (sorted.length - 1)
  let at = pos(first)
  return sorted.map((n) => {
    const p = Math.round(at)
    at += size(n) + gap
    return [n.id, axis === 'x' ? { x: p, y: n.y } : { x: n.x, y: p }]
  })
}
