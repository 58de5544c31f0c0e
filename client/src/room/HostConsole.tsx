/**
 * The host console (issue 22 item 2): a panel only host connections show. Every control is a host
 * action the server checks (`POST /api/rooms/{room}/host`); the state it shows is the server's
 * (`host` message), so two host tabs agree. Sections: the clock and its phases, the canvas (lock,
 * driver), hints on cue, the reference (overlay for the host, diff, reveal to the room), curveballs,
 * and private notes stored on the server.
 */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react'
import type * as Y from 'yjs'
import { hostAction } from '../api'
import type { Catalog } from '../catalog'
import {
  DEFAULT_PHASES,
  clockView,
  curveballText,
  phaseLabel,
  trimNumber,
  type HostAction,
  type HostView,
  type InterviewState,
  type Phase,
} from '../interview'
import { Markdown } from '../learn/Markdown'
import { roleLabel, type Participant } from '../presence'
import type { ScenarioRequest } from '../simulation'
import { exportDesign, NOTE_TYPE } from '../schema'
import { Items, useDiff } from './AnswerPanel'
import { ClockFace } from './InterviewBar'
import type { ReferenceState } from './useReference'

export function useHostActions(room: string, token: string | null) {
  const [busy, setBusy] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const run = useCallback(
    async (action: HostAction): Promise<boolean> => {
      if (!token) return false
      setBusy(action.action)
      setError(null)
      try {
        await hostAction(room, token, action)
        return true
      } catch (e) {
        setError((e as Error).message)
        return false
      } finally {
        setBusy(null)
      }
    },
    [room, token],
  )
  return { run, busy, error, clearError: useCallback(() => setError(null), []) }
}

type Run = (a: HostAction) => Promise<boolean>

/** The design's components (id, label), live, for the curveball's "fail a node"; only while `on`. */
export function useDesignNodes(doc: Y.Doc, on: boolean): { id: string; label: string }[] {
  const [nodes, setNodes] = useState<{ id: string; label: string }[]>([])
  useEffect(() => {
    if (!on) return
    let key = ''
    const update = () => {
      const next = exportDesign(doc)
        .nodes.filter((n) => n.type !== NOTE_TYPE)
        .map((n) => ({ id: n.id, label: n.label || n.type }))
        .sort((a, b) => a.label.localeCompare(b.label))
      const k = JSON.stringify(next)
      if (k !== key) {
        key = k
        setNodes(next)
      }
    }
    update()
    doc.on('update', update)
    return () => doc.off('update', update)
  }, [doc, on])
  return nodes
}

function Section({ title, children, testid }: { title: string; children: ReactNode; testid: string }) {
  return (
    <section className="hc-section" aria-label={title} data-testid={testid}>
      <h3>{title}</h3>
      {children}
    </section>
  )
}

export function HostConsole(props: {
  room: string
  token: string | null
  state: InterviewState
  host: HostView | null
  offset: number
  people: Participant[]
  doc: Y.Doc
  catalog: Catalog
  reference: ReferenceState
  peakRps: number | null
  nodes: { id: string; label: string }[]
}) {
  const { state, host } = props
  const { run, busy, error, clearError } = useHostActions(props.room, props.token)
  return (
    <div className="host-console" data-testid="host-console">
      <p className="muted small hc-intro">
        Only you see this panel. The candidate sees the clock, the hints you reveal, the lock and the curveball.
      </p>
      {error && (
        <p className="error-box" role="alert">
          {error}{' '}
          <button type="button" className="link" onClick={clearError}>
            Dismiss
          </button>
        </p>
      )}
      <ClockSection state={state} offset={props.offset} run={run} busy={busy} />
      <CanvasSection state={state} people={props.people} run={run} busy={busy} />
      <HintsSection state={state} hints={host?.hints ?? []} run={run} busy={busy} />
      <ReferenceSection state={state} reference={props.reference} doc={props.doc} catalog={props.catalog} run={run} busy={busy} />
      <CurveballSection state={state} run={run} busy={busy} peakRps={props.peakRps} nodes={props.nodes} />
      <NotesSection notes={host?.notes ?? null} run={run} />
    </div>
  )
}

function ClockSection({ state, offset, run, busy }: { state: InterviewState; offset: number; run: Run; busy: string | null }) {
  const v = clockView(state.clock, offset, Date.now())
  const [editing, setEditing] = useState(false)
  return (
    <Section title="Clock" testid="hc-clock">
      <div className="hc-clock">
        <ClockFace state={state} offset={offset} big />
        <div>
          <div className="hc-phase-name">{v.phase ? phaseLabel(v.phase.name) : '—'}</div>
          <div className="muted small">
            Phase {v.number} of {v.total}
            {v.running ? '' : v.notStarted ? ' · not started' : ' · paused'}
          </div>
        </div>
      </div>
      <div className="row hc-buttons">
        {v.running ? (
          <button type="button" onClick={() => run({ action: 'clock_pause' })} disabled={busy !== null}>
            Pause
          </button>
        ) : (
          <button type="button" className="primary" onClick={() => run({ action: 'clock_start' })} disabled={busy !== null}>
            {v.notStarted ? 'Start the clock' : 'Resume'}
          </button>
        )}
        <button
          type="button"
          onClick={() => run({ action: 'next_phase' })}
          disabled={busy !== null || v.last}
          title={v.last ? 'This is the last phase' : undefined}
        >
          Next phase
        </button>
        <button type="button" className="link" onClick={() => setEditing((e) => !e)} aria-expanded={editing}>
          {editing ? 'Close the phases' : 'Edit the phases'}
        </button>
      </div>
      {editing && (
        <PhaseEditor
          phases={state.clock.phases}
          onStart={async (phases) => {
            if (await run({ action: 'clock_start', phases })) setEditing(false)
          }}
          busy={busy !== null}
        />
      )}
    </Section>
  )
}

function PhaseEditor({ phases, onStart, busy }: { phases: Phase[]; onStart: (p: Phase[]) => void; busy: boolean }) {
  const [rows, setRows] = useState<{ name: string; minutes: string }[]>(() =>
    (phases.length ? phases : DEFAULT_PHASES).map((p) => ({ name: phaseLabel(p.name), minutes: trimNumber(p.minutes) })),
  )
  const parsed = rows.map((r) => ({ name: r.name.trim(), minutes: Number(r.minutes) }))
  const valid = parsed.length > 0 && parsed.every((p) => p.name && Number.isFinite(p.minutes) && p.minutes > 0 && p.minutes <= 1440)
  const total = parsed.reduce((s, p) => s + (Number.isFinite(p.minutes) ? p.minutes : 0), 0)
  const set = (i: number, k: 'name' | 'minutes', v: string) => setRows((rs) => rs.map((r, j) => (j === i ? { ...r, [k]: v } : r)))
  return (
    <form
      className="hc-phases"
      onSubmit={(e) => {
        e.preventDefault()
        if (valid) onStart(parsed)
      }}
    >
      {rows.map((r, i) => (
        <div className="row" key={i}>
          <input aria-label={`Phase ${i + 1} name`} value={r.name} onChange={(e) => set(i, 'name', e.target.value)} maxLength={60} />
          <input
            aria-label={`Phase ${i + 1} minutes`}
            type="number"
            min={0.5}
            step="any"
            value={r.minutes}
            onChange={(e) => set(i, 'minutes', e.target.value)}
            className="hc-minutes"
          />
          <span className="muted small">min</span>
          <button
            type="button"
            className="icon-btn"
            aria-label={`Remove phase ${i + 1}`}
            onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}
            disabled={rows.length <= 1}
          >
            ×
          </button>
        </div>
      ))}
      <div className="row">
        <button type="button" onClick={() => setRows((rs) => [...rs, { name: 'Wrap-up', minutes: '5' }])} disabled={rows.length >= 32}>
          Add a phase
        </button>
        <button
          type="button"
          className="link"
          onClick={() => setRows(DEFAULT_PHASES.map((p) => ({ name: phaseLabel(p.name), minutes: String(p.minutes) })))}
        >
          Defaults
        </button>
        <span className="spacer" />
        <span className="muted small">{trimNumber(total)} min in all</span>
      </div>
      <button type="submit" className="primary" disabled={!valid || busy}>
        Start with these phases
      </button>
      <p className="muted small">Starting with new phases restarts the clock at the first one.</p>
    </form>
  )
}

function CanvasSection({ state, people, run, busy }: { state: InterviewState; people: Participant[]; run: Run; busy: string | null }) {
  // Anyone with an edit link can drive; the host always can edit, observers never.
  const editors = people.filter((p) => p.user.role === 'edit')
  const rotate = () => {
    if (editors.length === 0) return
    const at = editors.findIndex((p) => p.clientID === state.driver)
    void run({ action: 'driver', client: editors[(at + 1) % editors.length].clientID })
  }
  const driverGone = state.driver !== null && !people.some((p) => p.clientID === state.driver)
  return (
    <Section title="Canvas" testid="hc-canvas">
      <div className="row hc-buttons">
        {state.locked ? (
          <button
            type="button"
            className="primary"
            onClick={() => run({ action: 'unlock' })}
            disabled={busy !== null}
            data-testid="hc-unlock"
          >
            Unlock the canvas
          </button>
        ) : (
          <button type="button" onClick={() => run({ action: 'lock' })} disabled={busy !== null} data-testid="hc-lock">
            Lock the canvas
          </button>
        )}
        <span className="muted small">{state.locked ? 'Locked: only you can edit.' : 'For “walk me through it” moments.'}</span>
      </div>
      <h4>Who edits</h4>
      <ul className="plain-list hc-people" aria-label="Participants and roles">
        {people.map((p) => {
          const driving = state.driver === p.clientID
          return (
            <li key={p.clientID} data-testid="hc-person" data-name={p.user.name}>
              <span className="hc-dot" style={{ background: p.user.color }} aria-hidden="true" />
              <span className="hc-person-name">
                {p.user.name}
                {p.self ? ' (you)' : ''}
              </span>
              <span className={`chip small role-${p.user.role ?? 'edit'}`}>{roleLabel(p.user.role, state.mode)}</span>
              {driving && <span className="chip small drive">driving</span>}
              {p.user.role === 'edit' && !driving && (
                <button
                  type="button"
                  className="small"
                  onClick={() => run({ action: 'driver', client: p.clientID })}
                  disabled={busy !== null}
                >
                  Make driver
                </button>
              )}
            </li>
          )
        })}
      </ul>
      {driverGone && <p className="muted small">The driver has left the room: hand over to someone present, or let everyone edit.</p>}
      <div className="row hc-buttons">
        <button type="button" onClick={rotate} disabled={busy !== null || editors.length < 1} title="Hand editing to the next candidate">
          Rotate driver
        </button>
        <button type="button" onClick={() => run({ action: 'driver', client: null })} disabled={busy !== null || state.driver === null}>
          Everyone edits
        </button>
      </div>
    </Section>
  )
}

function HintsSection({ state, hints, run, busy }: { state: InterviewState; hints: string[]; run: Run; busy: string | null }) {
  const revealed = new Set(state.revealed_hints.map((h) => h.index))
  const next = hints.findIndex((_, i) => !revealed.has(i))
  return (
    <Section title={`Hints · ${revealed.size} of ${hints.length} revealed`} testid="hc-hints">
      {hints.length === 0 && <p className="muted small">This problem has no hints.</p>}
      <ol className="hc-hints">
        {hints.map((h, i) => (
          <li key={i} className={revealed.has(i) ? 'revealed' : ''}>
            <Markdown text={h} />
            {revealed.has(i) ? (
              <span className="chip small ok">shown to the room</span>
            ) : (
              <button
                type="button"
                className={i === next ? 'primary small' : 'small'}
                onClick={() => run({ action: 'reveal_hint', index: i })}
                disabled={busy !== null}
                data-testid={`hc-reveal-hint-${i}`}
              >
                Reveal to the room
              </button>
            )}
          </li>
        ))}
      </ol>
    </Section>
  )
}

function ReferenceSection(props: {
  state: InterviewState
  reference: ReferenceState
  doc: Y.Doc
  catalog: Catalog
  run: Run
  busy: string | null
}) {
  const { reference, state, run } = props
  const diff = useDiff(props.doc, reference.solution, props.catalog)
  const sol = reference.solution?.reference_solution
  return (
    <Section title="Reference solution" testid="hc-reference">
      <label className="toggle">
        <input
          type="checkbox"
          checked={reference.ghost}
          onChange={(e) => (e.target.checked ? reference.show() : reference.setGhost(false))}
          data-testid="hc-overlay"
        />{' '}
        Overlay on my canvas (only you see it)
      </label>
      {reference.error && <p className="error-box">Could not load the reference: {reference.error}</p>}
      {reference.asked && !reference.solution && !reference.error && <p className="muted small">Loading the reference…</p>}
      {reference.asked && reference.solution && !sol && <p className="muted small">This problem has no reference design.</p>}
      {diff && (
        <div data-testid="hc-diff">
          <h4>In the reference, not in the design</h4>
          <Items items={diff.missing} catalog={props.catalog} empty="Nothing: every kind of component is there." />
          {diff.smaller.length > 0 && (
            <ul className="plain-list diff-list">
              {diff.smaller.map((g) => (
                <li key={g.kind}>
                  {props.catalog.name(g.kind)}: {g.design} instance{g.design === 1 ? '' : 's'}, the reference has {g.reference}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div className="row hc-buttons">
        {state.solution_revealed ? (
          <>
            <span className="chip small ok">The room can see the answer</span>
            <button type="button" onClick={() => run({ action: 'hide_solution' })} disabled={props.busy !== null}>
              Hide it again
            </button>
          </>
        ) : (
          <button
            type="button"
            onClick={() => run({ action: 'reveal_solution' })}
            disabled={props.busy !== null}
            data-testid="hc-reveal-solution"
          >
            Reveal the answer to the room
          </button>
        )}
      </div>
    </Section>
  )
}

function CurveballSection(props: {
  state: InterviewState
  run: Run
  busy: string | null
  peakRps: number | null
  nodes: { id: string; label: string }[]
}) {
  const { state, run, peakRps, nodes } = props
  const cur = state.curveball
  const [load, setLoad] = useState(() => (typeof cur?.load === 'number' ? trimNumber(cur.load) : '3'))
  const [fail, setFail] = useState<string>(cur?.fail[0] ?? '')
  const [cold, setCold] = useState(cur?.cold_cache ?? false)
  const label = (id: string) => nodes.find((n) => n.id === id)?.label ?? id
  const mult = Number(load)
  const validLoad = Number.isFinite(mult) && mult > 0
  const rate = peakRps && validLoad ? Math.round(mult * peakRps) : null
  const throwIt = (scenario: Partial<ScenarioRequest>) => run({ action: 'curveball', scenario })
  return (
    <Section title="Curveball" testid="hc-curveball">
      {cur ? (
        <div className="iv-curveball small" data-testid="hc-curveball-now">
          <strong>In play:</strong> {curveballText(cur, peakRps, label)}.{' '}
          <button type="button" className="link" onClick={() => run({ action: 'clear_curveball' })} disabled={props.busy !== null}>
            Clear it
          </button>
        </div>
      ) : (
        <p className="muted small">
          Change the scenario live: everyone sees a banner, and the room’s tiers and capacity figures are re-judged under it.
        </p>
      )}
      <form
        className="hc-curve"
        onSubmit={(e) => {
          e.preventDefault()
          if (validLoad) void throwIt({ load: mult, fail: fail ? [fail] : [], cold_cache: cold })
        }}
      >
        <label className="field">
          <span>Traffic (× the problem’s peak)</span>
          <div className="row">
            <input
              type="number"
              min={0.1}
              step="any"
              value={load}
              onChange={(e) => setLoad(e.target.value)}
              aria-label="Load multiplier"
              data-testid="hc-load"
            />
            {[2, 5, 10].map((n) => (
              <button key={n} type="button" className="small" onClick={() => setLoad(String(n))}>
                ×{n}
              </button>
            ))}
          </div>
        </label>
        {peakRps ? (
          <label className="field">
            <span>
              or a changed constant: peak rate <span className="muted">(the problem says {peakRps.toLocaleString('en-US')} rps)</span>
            </span>
            <div className="row">
              <input
                type="number"
                min={1}
                step="any"
                value={rate ?? ''}
                onChange={(e) => {
                  const r = Number(e.target.value)
                  if (Number.isFinite(r) && r > 0) setLoad(trimNumber(Math.round((r / peakRps) * 1000) / 1000))
                }}
                aria-label="Peak rate in requests per second"
              />
              <span className="muted small">rps</span>
            </div>
          </label>
        ) : null}
        <label className="field">
          <span>Fail a node</span>
          <select value={fail} onChange={(e) => setFail(e.target.value)} aria-label="Node to fail" data-testid="hc-fail">
            <option value="">None</option>
            {nodes.map((n) => (
              <option key={n.id} value={n.id}>
                {n.label}
              </option>
            ))}
          </select>
        </label>
        <label className="toggle">
          <input type="checkbox" checked={cold} onChange={(e) => setCold(e.target.checked)} /> Cold cache (every cache misses)
        </label>
        <button type="submit" className="primary" disabled={!validLoad || props.busy !== null} data-testid="hc-throw">
          {cur ? 'Change the curveball' : 'Throw the curveball'}
        </button>
      </form>
    </Section>
  )
}

/** Private notes: saved on the server a moment after typing stops; the host's other tabs follow. */
function NotesSection({ notes, run }: { notes: string | null; run: Run }) {
  const [text, setText] = useState(notes ?? '')
  const [status, setStatus] = useState<'saved' | 'editing' | 'saving' | 'error'>('saved')
  const dirty = useRef(false)
  // The server's notes (another host tab, a reconnect) replace the box unless the host is typing.
  useEffect(() => {
    if (notes !== null && !dirty.current) setText(notes)
  }, [notes])
  useEffect(() => {
    if (!dirty.current) return
    const t = setTimeout(async () => {
      setStatus('saving')
      const ok = await run({ action: 'notes', text })
      if (ok) dirty.current = false
      setStatus(ok ? 'saved' : 'error')
    }, 800)
    return () => clearTimeout(t)
  }, [text, run])
  return (
    <Section title="Private notes" testid="hc-notes">
      <textarea
        className="hc-notes"
        value={text}
        onChange={(e) => {
          dirty.current = true
          setStatus('editing')
          setText(e.target.value)
        }}
        rows={6}
        maxLength={60_000}
        aria-label="Private notes (only the host sees them)"
        placeholder="Signals, follow-up questions, things to probe… Only you see these; they are kept with the room."
        data-testid="hc-notes-text"
      />
      <p className="muted small" data-testid="hc-notes-status">
        {status === 'saved'
          ? 'Saved on the server · never shown to the candidate'
          : status === 'saving'
            ? 'Saving…'
            : status === 'editing'
              ? 'Editing…'
              : 'Not saved: see the error above'}
      </p>
    </Section>
  )
}
