/**
 * Align and distribute buttons for a multiple selection (issue 24, item 3), shown in the selection
 * bar: each moves the selected nodes in one transaction, so one undo puts them back.
 */
import { useReactFlow } from '@xyflow/react'
import type * as Y from 'yjs'
import { NODE_WIDTH } from '../flow'
import { moveNodes } from '../schema'
import { alignMoves, distributeMoves, type Align, type Placed } from './align'

// Each icon: the guide line, then the boxes it lines up (24 × 24, stroked).
const ICONS: Record<Align | 'x' | 'y', string[]> = {
  left: ['M4 3v18', 'M7 6h10v4H7z', 'M7 14h6v4H7z'],
  center: ['M12 3v18', 'M6 6h12v4H6z', 'M8 14h8v4H8z'],
  right: ['M20 3v18', 'M7 6h10v4H7z', 'M11 14h6v4h-6z'],
  top: ['M3 4h18', 'M6 7h4v10H6z', 'M14 7h4v6h-4z'],
  middle: ['M3 12h18', 'M6 6h4v12H6z', 'M14 8h4v8h-4z'],
  bottom: ['M3 20h18', 'M6 7h4v10H6z', 'M14 11h4v6h-4z'],
  x: ['M3 4v16', 'M21 4v16', 'M9 8h6v8H9z'],
  y: ['M4 3h16', 'M4 21h16', 'M8 9h8v6H8z'],
}

const LABELS: [Align | 'x' | 'y', string][] = [
  ['left', 'Align left edges'],
  ['center', 'Align centres'],
  ['right', 'Align right edges'],
  ['top', 'Align tops'],
  ['middle', 'Align middles'],
  ['bottom', 'Align bottoms'],
  ['x', 'Distribute horizontally'],
  ['y', 'Distribute vertically'],
]

export function AlignTools({ doc, selected }: { doc: Y.Doc; selected: string[] }) {
  const rf = useReactFlow()
  if (selected.length < 2) return null
  const placed = (): Placed[] => {
    const keep = new Set(selected)
    return rf
      .getNodes()
      .filter((n) => keep.has(n.id))
      .map((n) => ({
        id: n.id,
        x: n.position.x,
        y: n.position.y,
        width: n.measured?.width ?? NODE_WIDTH,
        height: n.measured?.height ?? 56,
      }))
  }
  const run = (how: Align | 'x' | 'y') => {
    const nodes = placed()
    moveNodes(doc, how === 'x' || how === 'y' ? distributeMoves(nodes, how) : alignMoves(nodes, how))
  }
  return (
    <span className="align-tools" role="group" aria-label="Align and distribute">
      {LABELS.map(([how, label]) => {
        const distribute = how === 'x' || how === 'y'
        return (
          <button
            key={how}
            type="button"
            className="icon-btn"
            onClick={() => run(how)}
            disabled={distribute && selected.length < 3}
            aria-label={label}
            title={distribute && selected.length < 3 ? `${label} (select three or more)` : label}
          >
            <svg
              width="18"
              height="18"
              viewBox="0 0 24 24"
              fill="none"
              stroke="currentColor"
              strokeWidth="1.8"
              strokeLinecap="round"
              aria-hidden="true"
            >
              {ICONS[how].map((d) => (
                <path key={d} d={d} />
              ))}
            </svg>
          </button>
        )
      })}
    </span>
  )
}
