/**
 * The host's verdict on one item of the API checklist (issue 23 item 2: "a checklist the host can
 * override"): everyone sees who overrode the name matching; the host gets the buttons. A verdict is
 * the `api_override` host action (docs/PROTOCOL.md §7): the server stores it in the interview state,
 * re-runs the section checks and every participant's checklist follows. Shown in the room's Sections
 * tab and on the report page.
 */
import type { CheckItem } from './sections'
import './apiVerdict.css'

const VERDICTS: [boolean, string, string][] = [
  [true, 'api-verdict-covered', '✓ covered'],
  [false, 'api-verdict-not-covered', '✗ not covered'],
]

export type OnVerdict = (requirement: string, covered: boolean | null) => void

export function ApiVerdict({ item, onVerdict, busy = false }: { item: CheckItem; onVerdict?: OnVerdict; busy?: boolean }) {
  const o = item.override
  return (
    <span className="api-verdict" data-testid="api-verdict" data-requirement={item.name}>
      {o && (
        <span
          className={`chip small api-override ${o.covered ? 'pass' : 'fail'}`}
          data-testid="api-override"
          title={new Date(o.at).toLocaleString()}
        >
          host: {o.covered ? 'covered' : 'not covered'} · {o.by}
        </span>
      )}
      {onVerdict && (
        <span className="api-verdict-buttons no-print" role="group" aria-label={`Verdict on ${item.name}`}>
          {VERDICTS.map(([covered, id, label]) => (
            <button
              key={id}
              className="small"
              data-testid={id}
              aria-pressed={o?.covered === covered}
              disabled={busy || o?.covered === covered}
              onClick={() => onVerdict(item.name, covered)}
            >
              {label}
            </button>
          ))}
          {o && (
            <button className="small" data-testid="api-verdict-auto" disabled={busy} onClick={() => onVerdict(item.name, null)}>
              by matching
            </button>
          )}
        </span>
      )}
    </span>
  )
}
