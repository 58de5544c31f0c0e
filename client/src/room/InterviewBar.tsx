/**
 * What every participant of an interview sees under the room's bar (issue 22 items 2-3): the shared
 * clock with its phases (remaining time from the server's `ends_at`), whether the canvas is locked or
 * who drives and what that means for them, the curveball in play, and the hints the host revealed.
 */
import { useEffect, useState } from 'react'
import './interview.css'
import { clockView, curveballText, formatClock, phaseLabel, type EditBlock, type InterviewState } from '../interview'
import { Markdown } from '../learn/Markdown'
import type { Participant } from '../presence'
import { SECTION_TITLES, sectionsOfPhase } from './sections/checks'

/** Re-renders every `ms` while `on`. */
export function useTicker(on: boolean, ms = 500): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!on) return
    const t = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(t)
  }, [on, ms])
  return on ? now : Date.now()
}

export function ClockFace({ state, offset, big }: { state: InterviewState; offset: number; big?: boolean }) {
  const now = useTicker(state.clock.ends_at !== null)
  const v = clockView(state.clock, offset, now)
  const low = v.running && !v.overtime && v.remainingMs <= 60_000
  return (
    <span
      className={`iv-clock ${big ? 'big' : ''} ${v.overtime ? 'over' : low ? 'low' : ''} ${v.running ? 'running' : 'paused'}`}
      data-testid="iv-clock"
      data-running={v.running ? 'true' : 'false'}
      role="timer"
      aria-label={`${formatClock(v.remainingMs)} ${v.overtime ? 'over time' : 'left'} in ${v.phase ? phaseLabel(v.phase.name) : 'this phase'}${v.running ? '' : ', paused'}`}
    >
      {formatClock(v.remainingMs)}
    </span>
  )
}

export function InterviewBar(props: {
  state: InterviewState
  offset: number
  block: EditBlock
  isHost: boolean
  people: Participant[]
  peakRps: number | null
  nodeLabel: (id: string) => string
  /** Opens the Sections tab at the current phase's sections (issue 23), when the phase has some. */
  onSections?: () => void
}) {
  const { state, offset, block, people } = props
  const v = clockView(state.clock, offset, Date.now())
  const driver = state.driver === null ? null : people.find((p) => p.clientID === state.driver)
  const driverName = driver ? (driver.self ? 'You' : driver.user.name) : 'A participant'
  return (
    <section className="iv-bar" aria-label="Interview" data-testid="interview-bar">
      <div className="iv-row">
        <div className="iv-phase">
          <span className={`iv-state ${v.running ? 'on' : ''}`} data-testid="iv-state">
            {v.running ? (v.overtime ? 'Over time' : 'Running') : v.notStarted ? 'Not started' : 'Paused'}
          </span>
          <ClockFace state={state} offset={offset} />
          <span className="iv-phase-name" data-testid="iv-phase">
            {v.phase ? phaseLabel(v.phase.name) : ''}{' '}
            <span className="muted small">
              · phase {v.number} of {v.total}
            </span>
          </span>
          {props.onSections && v.phase && sectionsOfPhase(v.phase.name).length > 0 && (
            <button type="button" className="link iv-sections" data-testid="iv-sections" onClick={props.onSections}>
              →{' '}
              {sectionsOfPhase(v.phase.name)
                .map((k) => SECTION_TITLES[k])
                .join(', ')}
            </button>
          )}
        </div>
        <ol className="iv-phases" aria-label="Phases">
          {state.clock.phases.map((p, i) => (
            <li
              key={i}
              className={i < state.clock.phase ? 'done' : i === state.clock.phase ? 'now' : ''}
              style={{ flexGrow: Math.max(p.minutes, 1) }}
              title={`${phaseLabel(p.name)}: ${p.minutes} min`}
              aria-current={i === state.clock.phase ? 'step' : undefined}
            >
              <span>{phaseLabel(p.name)}</span>
            </li>
          ))}
        </ol>
        <div className="iv-flags">
          {state.locked && (
            <span className="iv-flag lock" data-testid="iv-locked">
              <span aria-hidden="true">🔒</span>{' '}
              {props.isHost ? 'Canvas locked: only you can edit' : 'The host has locked the canvas: explain your design'}
            </span>
          )}
          {state.driver !== null && (
            <span className="iv-flag drive" data-testid="iv-driver">
              <span aria-hidden="true">✎</span> {driverName} {driver?.self ? 'are' : 'is'} driving
              {block === 'not_driver' && !state.locked ? ': you watch, the host hands over' : ''}
            </span>
          )}
          {block === 'view' && !props.isHost && <span className="iv-flag">Observer: view only</span>}
        </div>
      </div>
      {state.curveball && (
        <div className="iv-curveball" role="status" data-testid="curveball-banner">
          <strong>Curveball:</strong> {curveballText(state.curveball, props.peakRps, props.nodeLabel)}.{' '}
          <span className="muted">The tiers and the capacity figures (Capacity tab, heat on the canvas) are judged under it.</span>
        </div>
      )}
      {state.revealed_hints.length > 0 && (
        <details className="iv-hints" open data-testid="revealed-hints">
          <summary>
            Hints from the interviewer <span className="badge">{state.revealed_hints.length}</span>
          </summary>
          <ol>
            {state.revealed_hints.map((h) => (
              <li key={h.index} data-testid="revealed-hint">
                <Markdown text={h.text} />
              </li>
            ))}
          </ol>
        </details>
      )}
    </section>
  )
}
