/**
 * One problem in full (issue 21): header, "Start a room", then every field of the problem (contents,
 * collapsible parts), the tutorial with its checkpoints, hints one at a time, and the answer behind a
 * button. Hints revealed and checkpoints passed here count as the learner's progress.
 */
import { useEffect, useState } from 'react'
import { createRoom, getComponents, getProblem, getSolution, type ComponentDef, type Problem, type Solution } from '../api'
import { TopBar } from '../TopBar'
import { Catalog } from '../catalog'
import { editLink, hostLink } from '../links'
import type { Mode } from '../protocol'
import { linkClick, navigate } from '../router'
import { AnalysisView, ReferenceView } from '../learn/Answer'
import { HintList } from '../learn/Hints'
import { ProblemFull } from '../learn/ProblemFull'
import { recordProgress, statusOf, useProgress } from '../learn/progress'
import { EstimateDrills, TutorialView } from '../learn/Tutorial'
import { DifficultyBadge, hintList } from './common'
import '../room/interview.css'

export function ProblemPage({ id }: { id: string }) {
  const [problem, setProblem] = useState<Problem | null>(null)
  const [catalog, setCatalog] = useState<Catalog | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [starting, setStarting] = useState(false)
  const [mode, setMode] = useState<Mode>('practice')
  const progress = useProgress()[id]

  useEffect(() => {
    const ctl = new AbortController()
    getProblem(id, ctl.signal).then(setProblem, (e: Error) => !ctl.signal.aborted && setError(e.message))
    getComponents(ctl.signal).then(
      (c: ComponentDef[]) => setCatalog(new Catalog(c)),
      () => !ctl.signal.aborted && setCatalog(new Catalog([])),
    )
    return () => ctl.abort()
  }, [id])

  useEffect(() => {
    if (problem) document.title = `${problem.title} · tierboard`
  }, [problem])

  async function start() {
    setStarting(true)
    setError(null)
    try {
      const r = await createRoom(id, mode)
      // The creator holds the host link (issue 22): it runs the room and hands out the others.
      const link = (hostLink(location.origin, r.room, r.tokens) ?? editLink(location.origin, r.room, r.tokens))!
      navigate(link.slice(location.origin.length))
    } catch (e) {
      setError(`Could not start a room: ${(e as Error).message}`)
      setStarting(false)
    }
  }

  const hints = hintList(problem?.hints)
  const shown = Math.min(progress?.hintsUsed ?? 0, hints.length)
  return (
    <div className="page">
      <TopBar>
        <nav className="crumbs" aria-label="Breadcrumb">
          <a href="/" onClick={linkClick('/')}>
            Problems
          </a>
          {problem && <span> / {problem.category}</span>}
        </nav>
      </TopBar>
      <main className="content narrow problem-page">
        {error && (
          <p className="error-box" role="alert">
            {error}
          </p>
        )}
        {!problem && !error && <p className="muted">Loading…</p>}
        {problem && (
          <>
            <div className="problem-head">
              <div>
                <h1 data-field="title">{problem.title}</h1>
                <div className="card-meta">
                  <span data-field="difficulty">
                    <DifficultyBadge value={problem.difficulty} />
                  </span>
                  <span className="chip" data-field="category">
                    {problem.category}
                  </span>
                  <span className="chip">{problem.tiers.length} tiers</span>
                  <span className={`chip status ${statusOf(progress)}`} data-testid="progress-status">
                    {statusLabel(statusOf(progress))}
                  </span>
                </div>
                {problem.summary && (
                  <p className="lead" data-field="summary">
                    {problem.summary}
                  </p>
                )}
              </div>
              <div className="start-room">
                <fieldset className="mode-choice">
                  <legend className="muted small">Kind of room</legend>
                  <label className={mode === 'practice' ? 'on' : ''}>
                    <input type="radio" name="mode" value="practice" checked={mode === 'practice'} onChange={() => setMode('practice')} />
                    <span>
                      <strong>Practice</strong>
                      <small>Design alone or together; hints and the answer are there when you want them.</small>
                    </span>
                  </label>
                  <label className={mode === 'interview' ? 'on' : ''}>
                    <input
                      type="radio"
                      name="mode"
                      value="interview"
                      checked={mode === 'interview'}
                      onChange={() => setMode('interview')}
                    />
                    <span>
                      <strong>Mock interview</strong>
                      <small>You host: a shared clock, hints on cue, curveballs. The candidate sees only what you reveal.</small>
                    </span>
                  </label>
                </fieldset>
                <button type="button" className="primary big" onClick={start} disabled={starting}>
                  {starting ? 'Starting…' : mode === 'interview' ? 'Start the interview room' : 'Start a room'}
                </button>
              </div>
            </div>
            <ProblemFull
              problem={problem}
              catalog={catalog}
              tutorial={problem.tutorial ? <TutorialView problem={problem} /> : <EstimateDrills problem={problem} />}
              hints={
                hints.length > 0 ? (
                  <HintList
                    hints={hints}
                    revealed={Array.from({ length: shown }, () => ({}))}
                    onReveal={() => recordProgress(problem.id, { title: problem.title, hintsUsed: shown + 1, tiers: problem.tiers.length })}
                    idPrefix="page-"
                  />
                ) : undefined
              }
            />
            <AnswerSection id={problem.id} catalog={catalog} />
          </>
        )}
      </main>
    </div>
  )
}

export function statusLabel(s: ReturnType<typeof statusOf>): string {
  return s === 'done' ? 'Done' : s === 'in-progress' ? 'In progress' : 'Not started'
}

/** The answer stays hidden until asked for: a learner should try first. */
function AnswerSection({ id, catalog }: { id: string; catalog: Catalog | null }) {
  const [solution, setSolution] = useState<Solution | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [open, setOpen] = useState(false)
  useEffect(() => {
    if (!open || solution) return
    const ctl = new AbortController()
    getSolution(id, ctl.signal).then(setSolution, (e: Error) => !ctl.signal.aborted && setError(e.message))
    return () => ctl.abort()
  }, [open, id, solution])
  return (
    <section className="section answer" aria-labelledby="answer-title">
      <h2 id="answer-title">The answer</h2>
      {!open ? (
        <button type="button" onClick={() => setOpen(true)}>
          Show the reference design and analysis
        </button>
      ) : (
        <>
          {error && <p className="error-box">{error}</p>}
          {!solution && !error && <p className="muted">Loading…</p>}
          {solution?.reference_solution && <ReferenceView reference={solution.reference_solution} catalog={catalog} />}
          {solution?.analysis && <AnalysisView analysis={solution.analysis} />}
        </>
      )}
    </section>
  )
}
