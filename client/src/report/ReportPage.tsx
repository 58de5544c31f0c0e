/**
 * The session report page, `/r/{room}/report#host=…` (issue 23): phases, tier timeline, capacity
 * over time, who added what, the sections and their checks, the scorecard (the host fills it in and
 * shares the report), a replay scrubber over the stored history, Markdown export and a print view.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { getComponents, hostAction } from '../api'
import { Catalog, EMPTY_CATALOG } from '../catalog'
import { loadName } from '../presence'
import type { Design } from '../schema'
import { ApiVerdict } from './ApiVerdict'
import { designImage } from './designImage'
import { takeReport } from './prefetch'
import {
  ReportError,
  getHistory,
  getReport,
  putScorecard,
  reportToken,
  shareReport,
  type HistoryAt,
  type Report,
  type Scorecard,
} from './api'
import { clock, reportMarkdown } from './markdown'
import type { Sections } from './sections'
import './report.css'

export const SPEEDS = [1, 2, 4, 8, 16] as const
/** The replay advances this often while playing (ms of wall time). */
const TICK_MS = 250

export function ReportPage({ room }: { room: string }) {
  const auth = useMemo(() => reportToken(location.hash), [])
  const [report, setReport] = useState<Report | null>(null)
  const [error, setError] = useState<ReportError | null>(null)
  // The first load takes the request App started with the route; reloads ask again.
  const first = useRef(true)
  const reload = useCallback(() => {
    if (!auth) return
    const load = first.current ? takeReport : getReport
    first.current = false
    load(room, auth.token)
      .then((r) => {
        setReport(r)
        setError(null)
      })
      .catch((e: unknown) => setError(e instanceof ReportError ? e : new ReportError(String(e), 0, 'error')))
  }, [room, auth])
  useEffect(reload, [reload])
  // The component catalog draws the design as the canvas export does (icons, names, parameters).
  const [catalog, setCatalog] = useState<Catalog>(EMPTY_CATALOG)
  useEffect(() => {
    const ctl = new AbortController()
    getComponents(ctl.signal).then(
      (c) => setCatalog(new Catalog(c)),
      () => undefined,
    )
    return () => ctl.abort()
  }, [])
  const designSvg = useMemo(
    () => (report && report.design.nodes.length > 0 ? designImage(report.design, catalog) : null),
    [report, catalog],
  )
  const [verdictBusy, setVerdictBusy] = useState(false)
  const [verdictError, setVerdictError] = useState<string | null>(null)

  if (!auth)
    return (
      <main className="report-page">
        <p>This link has no token: open the report from the room.</p>
      </main>
    )
  if (error)
    return (
      <main className="report-page">
        <h1>Session report</h1>
        <p className="report-error" data-testid="report-error">
          {error.status === 403 ? 'The host has not shared this report yet.' : error.message}
        </p>
      </main>
    )
  if (!report)
    return (
      <main className="report-page">
        <p>Loading the report…</p>
      </main>
    )
  const start = report.started ?? report.created
  const isHost = auth.role === 'host'

  // The host's verdict on an item of the API checklist: the same host action as in the room.
  const onVerdict = isHost
    ? (requirement: string, covered: boolean | null) => {
        setVerdictBusy(true)
        setVerdictError(null)
        hostAction(room, auth.token, { action: 'api_override', requirement, covered, by: loadName() ?? undefined })
          .then(reload, (e: unknown) => setVerdictError(e instanceof Error ? e.message : String(e)))
          .finally(() => setVerdictBusy(false))
      }
    : undefined

  const exportMarkdown = () => {
    const blob = new Blob([reportMarkdown(report, { designSvg: designSvg ?? undefined })], { type: 'text/markdown' })
    const a = document.createElement('a')
    a.href = URL.createObjectURL(blob)
    a.download = `tierboard-report-${report.room}.md`
    a.click()
    URL.revokeObjectURL(a.href)
  }

  return (
    <main className="report-page" data-testid="report-page">
      <header className="report-head">
        <div>
          <h1>Session report: {report.problem.title}</h1>
          <p className="report-meta">
            {report.mode} room · {new Date(start).toLocaleString()} · {report.history.rows} stored updates
            {report.shared ? ' · shared with the candidate' : ''}
          </p>
        </div>
        <div className="report-actions no-print">
          <button onClick={exportMarkdown} data-testid="export-md">
            Export Markdown
          </button>
          {designSvg && (
            <button
              data-testid="export-design-svg"
              onClick={() => {
                const a = document.createElement('a')
                a.href = URL.createObjectURL(new Blob([designSvg], { type: 'image/svg+xml' }))
                a.download = `tierboard-design-${report.room}.svg`
                a.click()
                URL.revokeObjectURL(a.href)
              }}
            >
              Design SVG
            </button>
          )}
          <button onClick={() => window.print()} data-testid="print">
            Print / PDF
          </button>
          {isHost && <ShareToggle room={room} token={auth.token} report={report} onChange={reload} />}
        </div>
      </header>

      <section>
        <h2>Phases</h2>
        <table className="report-table">
          <thead>
            <tr>
              <th>phase</th>
              <th>planned</th>
              <th>spent</th>
            </tr>
          </thead>
          <tbody>
            {report.phases.map((p) => (
              <tr key={p.name} className={p.spent_ms > p.planned_ms ? 'over' : ''}>
                <td>{p.name.replace(/_/g, ' ')}</td>
                <td>{clock(p.planned_ms)}</td>
                <td>{clock(p.spent_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section>
        <h2>Tier timeline</h2>
        <ol className="tier-timeline" data-testid="tier-timeline">
          {report.tier_timeline.length === 0 && <li>No tier was reached.</li>}
          {report.tier_timeline.map((e, i) => (
            <li key={i} className={e.event}>
              <span className="t">{clock(e.at - start)}</span> {e.tier} {e.event === 'reached' ? 'reached ✓' : 'lost ✗'}
            </li>
          ))}
        </ol>
      </section>

      {report.mode === 'interview' && <Replay room={room} token={auth.token} report={report} start={start} catalog={catalog} />}

      <section>
        <h2>Final design</h2>
        <DesignImage design={report.design} svg={designSvg} testId="report-design" />
        <p>
          Tiers reached: {report.validation.reached} of {report.validation.tiers.length}.
        </p>
      </section>

      {report.capacity.length > 0 && (
        <section>
          <h2>Capacity over time (at the problem's peak)</h2>
          <table className="report-table">
            <thead>
              <tr>
                <th>time</th>
                <th>components</th>
                <th>throughput</th>
                <th>errors</th>
                <th>p99</th>
                <th>bottleneck</th>
                <th>peak</th>
              </tr>
            </thead>
            <tbody>
              {report.capacity.map((c, i) => (
                <tr key={i}>
                  <td>{clock(c.at - start)}</td>
                  <td>{c.nodes}</td>
                  <td>{Math.round(c.throughput_rps)} rps</td>
                  <td>{(c.error_rate * 100).toFixed(1)} %</td>
                  <td>{Math.round(c.p99_ms)} ms</td>
                  <td>{c.bottleneck ?? '–'}</td>
                  <td>{c.sustains_peak ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      {report.components.length > 0 && (
        <section>
          <h2>Who added which component</h2>
          <ul className="components">
            {report.components.map((c) => (
              <li key={c.node}>
                {clock(c.at - start)} <b>{c.label || c.node}</b> ({c.type}) by participant {c.client ?? '?'}
              </li>
            ))}
          </ul>
        </section>
      )}

      <SectionsView sections={report.sections} />

      <section>
        <h2>Checks</h2>
        {verdictError && <p className="report-error">The verdict was not taken: {verdictError}</p>}
        <ul className="checks" data-testid="section-checks">
          {report.section_checks.checks.map((c) => (
            <li key={c.id} className={c.status}>
              <b>{c.title}</b>: {c.status} ({c.explanation})
              <ul>
                {c.items.map((i, k) => (
                  <li key={k} className={i.status}>
                    {i.name}: {i.explanation}
                    {c.id === 'api_coverage' && (i.override || onVerdict) && (
                      <>
                        {' '}
                        <ApiVerdict item={i} onVerdict={onVerdict} busy={verdictBusy} />
                      </>
                    )}
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      </section>

      <ScorecardView room={room} token={auth.token} card={report.scorecard} editable={isHost} onSaved={reload} />

      {report.notes && (
        <section>
          <h2>Interviewer notes</h2>
          <pre className="notes">{report.notes}</pre>
        </section>
      )}
    </main>
  )
}

function ShareToggle({ room, token, report, onChange }: { room: string; token: string; report: Report; onChange: () => void }) {
  const [notes, setNotes] = useState(report.include_notes)
  return (
    <span className="share">
      <label>
        <input type="checkbox" checked={notes} onChange={(e) => setNotes(e.target.checked)} /> with my notes
      </label>
      <button data-testid="share" onClick={() => void shareReport(room, token, !report.shared, notes).then(onChange)}>
        {report.shared ? 'Stop sharing' : 'Share with the candidate'}
      </button>
    </span>
  )
}

/** The replay scrubber: the design, the tiers and the sections as they were at any moment. */
function Replay({ room, token, report, start, catalog }: { room: string; token: string; report: Report; start: number; catalog: Catalog }) {
  const end = Math.max(report.ended ?? report.generated, start + 1000)
  const [t, setT] = useState(end)
  const [speed, setSpeed] = useState<number>(1)
  const [playing, setPlaying] = useState(false)
  // The first frame (the end) comes with the report: opening replays the history once, not twice.
  const [frame, setFrame] = useState<HistoryAt | null>(report.replay_start?.at === end ? report.replay_start : null)
  const skipFirst = useRef(frame !== null)
  const inFlight = useRef(false)
  const wanted = useRef(t)
  wanted.current = t

  // One request at a time; while one is out, positions in between are skipped (no stall builds up).
  const fetchAt = useCallback(
    (at: number) => {
      if (inFlight.current) return
      inFlight.current = true
      getHistory(room, token, at)
        .then((h) => setFrame(h))
        .catch(() => {})
        .finally(() => {
          inFlight.current = false
          if (wanted.current !== at) fetchAt(wanted.current)
        })
    },
    [room, token],
  )
  useEffect(() => {
    if (skipFirst.current) {
      skipFirst.current = false
      return
    }
    fetchAt(t)
  }, [t, fetchAt])

  useEffect(() => {
    if (!playing) return
    const id = setInterval(() => {
      setT((now) => {
        const next = now + TICK_MS * speed
        if (next >= end) {
          setPlaying(false)
          return end
        }
        return next
      })
    }, TICK_MS)
    return () => clearInterval(id)
  }, [playing, speed, end])

  return (
    <section className="replay" data-testid="replay">
      <h2>Replay</h2>
      <div className="replay-controls no-print">
        <button
          data-testid="play"
          onClick={() => {
            if (t >= end) setT(start)
            setPlaying(!playing)
          }}
        >
          {playing ? 'Pause' : 'Play'}
        </button>
        <select aria-label="speed" value={speed} onChange={(e) => setSpeed(Number(e.target.value))} data-testid="speed">
          {SPEEDS.map((s) => (
            <option key={s} value={s}>
              {s}×
            </option>
          ))}
        </select>
        <input
          type="range"
          aria-label="position"
          data-testid="scrubber"
          min={start}
          max={end}
          step={100}
          value={t}
          onChange={(e) => {
            setPlaying(false)
            setT(Number(e.target.value))
          }}
        />
        <span className="t" data-testid="replay-time">
          {clock(t - start)} / {clock(end - start)}
        </span>
      </div>
      <div className="replay-events no-print">
        {report.tier_timeline.map((e, i) => (
          <button
            key={i}
            className={e.event}
            data-testid="jump"
            onClick={() => {
              setPlaying(false)
              setT(e.at)
            }}
          >
            {clock(e.at - start)} {e.tier} {e.event}
          </button>
        ))}
      </div>
      {frame && (
        <div className="replay-frame" data-testid="replay-frame" data-at={frame.at} data-rows={frame.rows}>
          <ReplayDesign design={frame.design} catalog={catalog} />
          <div>
            <ul className="replay-tiers" data-testid="replay-tiers">
              {frame.validation.tiers.map((tier) => (
                <li key={tier.id} className={tier.reached ? 'reached' : 'not'}>
                  {tier.reached ? '✓' : '○'} {tier.id} {tier.title}
                </li>
              ))}
            </ul>
            <p className="replay-rows">{frame.rows} updates applied</p>
            <SectionsView sections={frame.sections} compact />
          </div>
        </div>
      )}
    </section>
  )
}

/**
 * A design as an image: the export's real SVG, inline so that it prints and scales with the page
 * (its text is escaped by `sceneSvg`). `data-nodes` / `data-edges` say what it draws.
 */
export function DesignImage({ design, svg, testId = 'design-svg' }: { design: Design; svg: string | null; testId?: string }) {
  if (!svg || design.nodes.length === 0)
    return (
      <p className="empty-design" data-testid={`${testId}-empty`}>
        (empty canvas)
      </p>
    )
  return (
    <div
      className="design-svg"
      data-testid={testId}
      role="img"
      aria-label={`design: ${design.nodes.length} components, ${design.edges.length} connections`}
      dangerouslySetInnerHTML={{ __html: svg }}
    />
  )
}

function ReplayDesign({ design, catalog }: { design: Design; catalog: Catalog }) {
  const svg = useMemo(() => (design.nodes.length > 0 ? designImage(design, catalog) : null), [design, catalog])
  return <DesignImage design={design} svg={svg} testId="design-svg" />
}

function SectionsView({ sections: s, compact = false }: { sections: Sections; compact?: boolean }) {
  const Heading = compact ? 'h4' : 'h2'
  return (
    <section className={compact ? 'sections compact' : 'sections'} data-testid={compact ? 'replay-sections' : 'sections'}>
      {s.functional.length + s.non_functional.length > 0 ? (
        <Heading>Requirements</Heading>
      ) : (
        <p className="muted">No requirements written.</p>
      )}
      <ul>
        {s.functional.map((l, i) => (
          <li key={i}>{l}</li>
        ))}
      </ul>
      <ul className="nfr">
        {s.non_functional.map((l, i) => (
          <li key={i}>{l}</li>
        ))}
      </ul>
      {s.estimates.length > 0 && (
        <>
          <Heading>Estimates</Heading>
          <table className="report-table">
            <tbody>
              {s.estimates.map((e) => (
                <tr key={e.id}>
                  <td>{e.name}</td>
                  <td>
                    {e.value} {e.unit}
                  </td>
                  <td>
                    <code>{e.arithmetic}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {s.api.length > 0 && (
        <>
          <Heading>API</Heading>
          <table className="report-table">
            <tbody>
              {s.api.map((e) => (
                <tr key={e.id}>
                  <td>
                    <b>{e.method}</b> <code>{e.path}</code>
                  </td>
                  <td>{e.request}</td>
                  <td>{e.response}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {s.data_model.length > 0 && (
        <>
          <Heading>Data model</Heading>
          <table className="report-table">
            <tbody>
              {s.data_model.map((e) => (
                <tr key={e.id}>
                  <td>
                    <b>{e.name}</b>
                  </td>
                  <td>{e.fields}</td>
                  <td>key {e.keys || '–'}</td>
                  <td>{e.indexes}</td>
                  <td>{e.partitioning}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  )
}

function ScorecardView({
  room,
  token,
  card,
  editable,
  onSaved,
}: {
  room: string
  token: string
  card: Scorecard
  editable: boolean
  onSaved: () => void
}) {
  const [draft, setDraft] = useState(() => ({
    scores: Object.fromEntries(card.dimensions.map((d) => [d.id, { score: d.score, comment: d.comment }])),
    summary: card.summary,
    recommendation: card.recommendation,
  }))
  const [status, setStatus] = useState('')
  const save = () => {
    setStatus('saving…')
    putScorecard(room, token, draft)
      .then(() => {
        setStatus('saved')
        onSaved()
      })
      .catch((e: unknown) => setStatus(e instanceof Error ? e.message : String(e)))
  }
  return (
    <section className="scorecard" data-testid="scorecard">
      <h2>Scorecard</h2>
      <p className="scale">
        Scale {card.scale.min}–{card.scale.max}: {card.scale.labels.join(', ')}
      </p>
      <table className="report-table">
        <thead>
          <tr>
            <th>dimension</th>
            <th>score</th>
            <th>comment</th>
            <th>evidence</th>
          </tr>
        </thead>
        <tbody>
          {card.dimensions.map((d) => (
            <tr key={d.id}>
              <td title={d.criteria}>{d.title}</td>
              <td>
                {editable ? (
                  <select
                    aria-label={`score ${d.id}`}
                    value={draft.scores[d.id]?.score ?? ''}
                    onChange={(e) =>
                      setDraft({
                        ...draft,
                        scores: {
                          ...draft.scores,
                          [d.id]: { ...draft.scores[d.id], score: e.target.value ? Number(e.target.value) : null },
                        },
                      })
                    }
                  >
                    <option value="">–</option>
                    {card.scale.labels.map((l, i) => (
                      <option key={l} value={card.scale.min + i}>
                        {card.scale.min + i} {l}
                      </option>
                    ))}
                  </select>
                ) : (
                  (d.score ?? '–')
                )}
              </td>
              <td>
                {editable ? (
                  <textarea
                    aria-label={`comment ${d.id}`}
                    value={draft.scores[d.id]?.comment ?? ''}
                    onChange={(e) =>
                      setDraft({ ...draft, scores: { ...draft.scores, [d.id]: { ...draft.scores[d.id], comment: e.target.value } } })
                    }
                  />
                ) : (
                  d.comment
                )}
              </td>
              <td className="evidence">
                {d.evidence.map((e, i) => (
                  <div key={i}>{e}</div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {editable ? (
        <div className="no-print">
          <textarea
            aria-label="summary"
            placeholder="Overall feedback"
            value={draft.summary}
            onChange={(e) => setDraft({ ...draft, summary: e.target.value })}
          />
          <select
            aria-label="recommendation"
            value={draft.recommendation ?? ''}
            onChange={(e) => setDraft({ ...draft, recommendation: e.target.value || null })}
          >
            <option value="">no recommendation</option>
            {['strong_no_hire', 'no_hire', 'hire', 'strong_hire'].map((r) => (
              <option key={r} value={r}>
                {r.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
          <button onClick={save} data-testid="save-scorecard">
            Save scorecard
          </button>{' '}
          <span>{status}</span>
        </div>
      ) : (
        <>
          {card.recommendation && (
            <p>
              Recommendation: <b>{card.recommendation.replace(/_/g, ' ')}</b>
            </p>
          )}
          {card.summary && <p>{card.summary}</p>}
        </>
      )}
    </section>
  )
}
