/**
 * The server's live validation result (docs/PROTOCOL.md §4): a checkmark per tier and per rule, the
 * explanation of each rule, advisories and design issues apart. Clicking a rule highlights its nodes;
 * a failing rule links to the problem's hint that helps with it, where one does (issue 21). Rules that
 * judge the design as a whole (path, redundancy, capacity and latency at peak, issue 20) carry a label
 * of their kind; their explanations name the path found or where it breaks, and the load arithmetic.
 */
import { memo, useEffect, useState } from 'react'
import { getTimeline, type TierEvent } from '../api'
import { RULE_KIND_LABELS, type Finding, type ValidationResult } from '../protocol'

function Mark({ ok, label }: { ok: boolean; label: string }) {
  return (
    <span className={`mark ${ok ? 'ok' : 'no'}`} role="img" aria-label={label}>
      {ok ? '✓' : '✗'}
    </span>
  )
}

export const TierPanel = memo(function TierPanel(props: {
  result: ValidationResult | null
  connected: boolean
  active: string | null
  onHighlight: (key: string | null, nodes: string[]) => void
  /** The index of the hint that helps with rule `rule` of tier `tier`, or null. */
  hintFor?: (tier: number, rule: number) => number | null
  onHint?: (index: number) => void
}) {
  const { result, active, onHighlight, hintFor, onHint } = props
  if (!result) {
    return (
      <div className="tier-panel">
        <p className="muted">{props.connected ? 'Waiting for the first validation…' : 'Tier checks appear once connected.'}</p>
      </div>
    )
  }
  const total = result.tiers.length
  const toggle = (key: string, nodes: string[]) => onHighlight(active === key ? null : key, active === key ? [] : nodes)
  return (
    <div className="tier-panel" aria-live="polite">
      <div className="tier-summary">
        <div className="progress" aria-hidden="true">
          <div style={{ width: `${total ? (100 * result.reached) / total : 0}%` }} />
        </div>
        <span data-testid="tiers-reached">
          {result.reached} of {total} tiers reached
        </span>
      </div>
      <ol className="tiers">
        {result.tiers.map((t, ti) => (
          <li
            key={t.id}
            className={`tier ${t.reached ? 'reached' : t.passed ? 'passed' : 'failed'}`}
            data-testid={`tier-${t.id}`}
            data-reached={t.reached}
          >
            <div className="tier-head">
              <Mark ok={t.reached} label={t.reached ? 'reached' : 'not reached'} />
              <span className="tier-id">{t.id}</span>
              <span className="tier-title">{t.title}</span>
              {t.passed && !t.reached && (
                <span className="chip small" title="its rules pass, but an earlier tier does not">
                  passes
                </span>
              )}
            </div>
            <ul className="rules">
              {t.rules.map((r, i) => {
                const key = `${t.id}/${i}`
                const hint = !r.passed && hintFor && onHint ? hintFor(ti, i) : null
                return (
                  <li key={key}>
                    <button
                      type="button"
                      className={`rule ${r.passed ? 'ok' : 'no'} ${active === key ? 'active' : ''}`}
                      aria-pressed={active === key}
                      onClick={() => toggle(key, r.nodes)}
                      title={r.nodes.length ? 'Highlight the nodes this rule concerns' : undefined}
                    >
                      <Mark ok={r.passed} label={r.passed ? 'passed' : 'failed'} />
                      <span>
                        {RULE_KIND_LABELS[r.kind] && <span className="chip small rule-kind">{RULE_KIND_LABELS[r.kind]}</span>}
                        <span className="rule-text">{r.text}</span>
                        {r.explanation && <span className="rule-why">{r.explanation}</span>}
                      </span>
                    </button>
                    {hint !== null && (
                      <button type="button" className="link hint-link" onClick={() => onHint?.(hint)}>
                        Hint {hint + 1} helps with this
                      </button>
                    )}
                  </li>
                )
              })}
            </ul>
          </li>
        ))}
      </ol>
      <Findings title="Design issues" items={result.design_issues} kind="issue" active={active} toggle={toggle} />
      <Findings title="Advisories" items={result.advisories} kind="advice" active={active} toggle={toggle} />
    </div>
  )
})

function Findings(props: {
  title: string
  items: Finding[]
  kind: string
  active: string | null
  toggle: (key: string, nodes: string[]) => void
}) {
  if (props.items.length === 0) return null
  return (
    <section className={`findings ${props.kind}`}>
      <h3 className="sub">{props.title}</h3>
      <ul>
        {props.items.map((f, i) => {
          const key = `${props.kind}/${i}`
          return (
            <li key={key}>
              <button
                type="button"
                className={`finding ${props.active === key ? 'active' : ''}`}
                onClick={() => props.toggle(key, f.nodes)}
                aria-pressed={props.active === key}
              >
                <span className="finding-code">{f.code.replace(/_/g, ' ')}</span> {f.message}
              </button>
            </li>
          )
        })}
      </ul>
    </section>
  )
}

/**
 * The session's timeline (`GET /api/rooms/{room}/timeline`): when each tier was reached or lost.
 * Re-read whenever the number of reached tiers changes, and on reconnecting.
 */
export const Timeline = memo(function Timeline(props: { room: string; token: string; reached: number | null; connected: boolean }) {
  const [events, setEvents] = useState<TierEvent[]>([])
  const { room, token, reached, connected } = props
  useEffect(() => {
    // offline, a request would only fail (and the browser logs it): ask again once reconnected
    if (reached === null || !connected) return
    const ctl = new AbortController()
    // the server stores the transition right after it pushes the result: ask a moment later
    const t = setTimeout(() => getTimeline(room, token, ctl.signal).then(setEvents, () => undefined), 300)
    return () => {
      clearTimeout(t)
      ctl.abort()
    }
  }, [room, token, reached, connected])
  if (events.length === 0) return null
  const time = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })
  return (
    <section className="timeline">
      <h3 className="sub">Timeline</h3>
      <ol>
        {events.slice(-12).map((e, i) => (
          <li key={i} className={e.event === 'reached' ? 'ok' : 'no'}>
            <time dateTime={new Date(e.at).toISOString()}>{time(e.at)}</time> {e.tier} {e.event}
          </li>
        ))}
      </ol>
    </section>
  )
})

/**
 * The tiers at a glance, above whichever other tab is open (issue 24, item 4): the feedback stays in
 * view while one inspects a node or reads the problem. One mark per tier, the same ✓/✗ as the
 * panel's; clicking the strip opens the Tiers tab.
 */
export const TierStrip = memo(function TierStrip(props: { result: ValidationResult; stale: boolean; onOpen: () => void }) {
  const { result, stale, onOpen } = props
  const total = result.tiers.length
  return (
    <button
      type="button"
      className={`tier-strip ${stale ? 'stale' : ''}`}
      data-testid="tier-strip"
      onClick={onOpen}
      title={stale ? 'The server’s last results (offline): open the Tiers tab' : 'Open the Tiers tab'}
    >
      {/* visible words only: the button's name is its text (axe: label-content-name-mismatch) */}
      <span className="tier-strip-label">Tiers</span>
      <span className="tier-strip-count">
        {result.reached}/{total}
      </span>
      {stale && <span className="tier-strip-label">offline</span>}
      {result.tiers.map((t) => (
        <span key={t.id} className={`tier-strip-tier ${t.reached ? 'ok' : 'no'}`} data-reached={t.reached} title={`${t.id} ${t.title}`}>
          {t.reached ? '✓' : '✗'} {t.id}
        </span>
      ))}
    </button>
  )
})
