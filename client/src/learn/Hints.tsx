/**
 * A problem's hints revealed one at a time. The list is presentational: the problem page keeps the
 * count per browser, a room shares it with everyone through its document (room/useHints.ts).
 */
import { Markdown } from './Markdown'

export interface RevealedHint {
  /** Who revealed it, when the room knows. */
  by?: string
}

export function HintList(props: { hints: string[]; revealed: RevealedHint[]; onReveal: (() => void) | null; idPrefix: string }) {
  const { hints, revealed, onReveal, idPrefix } = props
  const shown = Math.min(revealed.length, hints.length)
  return (
    <div data-field="hints">
      <ol className="hints">
        {hints.slice(0, shown).map((h, i) => (
          <li key={i} id={`${idPrefix}hint-${i}`} tabIndex={-1}>
            <Markdown text={h} />
            {revealed[i]?.by && <span className="muted small"> revealed by {revealed[i].by}</span>}
          </li>
        ))}
      </ol>
      {shown < hints.length ? (
        onReveal ? (
          <button type="button" onClick={onReveal}>
            Show hint {shown + 1} of {hints.length}
          </button>
        ) : (
          <p className="muted small">
            {shown} of {hints.length} hints revealed.
          </p>
        )
      ) : (
        <p className="muted small">All hints shown.</p>
      )}
    </div>
  )
}
