/** One problem: goal, description, requirements, constants, components, tiers, and "Start a room". */
import { useEffect, useState } from 'react'
import { createRoom, getComponents, getProblem, type ComponentDef, type Problem } from '../api'
import { TopBar } from '../TopBar'
import { Catalog } from '../catalog'
import { ComponentIcon } from '../icons'
import { editLink } from '../links'
import { linkClick, navigate } from '../router'
import { AnyValue, DifficultyBadge, Paragraphs, Section } from './common'

export function ProblemPage({ id }: { id: string }) {
  const [problem, setProblem] = useState<Problem | null>(null)
  const [catalog, setCatalog] = useState<Catalog | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [starting, setStarting] = useState(false)

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
      const r = await createRoom(id)
      const link = editLink(location.origin, r.room, r.tokens)!
      navigate(link.slice(location.origin.length))
    } catch (e) {
      setError(`Could not start a room: ${(e as Error).message}`)
      setStarting(false)
    }
  }

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
                <h1>{problem.title}</h1>
                <div className="card-meta">
                  <DifficultyBadge value={problem.difficulty} />
                  <span className="chip">{problem.category}</span>
                  <span className="chip">{problem.tiers.length} tiers</span>
                </div>
                {problem.summary && <p className="lead">{problem.summary}</p>}
              </div>
              <button type="button" className="primary big" onClick={start} disabled={starting}>
                {starting ? 'Starting…' : 'Start a room'}
              </button>
            </div>
            {problem.goal && (
              <Section title="Goal">
                <Paragraphs text={problem.goal} />
              </Section>
            )}
            {problem.description && (
              <Section title="Description">
                <Paragraphs text={problem.description} />
              </Section>
            )}
            <Requirements problem={problem} />
            {problem.constants != null && (
              <Section title="Constants and assumptions">
                <AnyValue value={problem.constants} />
              </Section>
            )}
            <Section title="Available components">
              <ul className="component-list">
                {problem.available_components.map((t) => {
                  const def = catalog?.get(t)
                  return (
                    <li key={t}>
                      <ComponentIcon icon={def?.icon} type={t} family={def?.family} />
                      <span>{catalog?.name(t) ?? t}</span>
                      <code>{t}</code>
                    </li>
                  )
                })}
              </ul>
            </Section>
            <Section title="Tiers">
              <ol className="tier-list">
                {problem.tiers.map((t) => (
                  <li key={t.id}>
                    <h3>
                      <span className="tier-id">{t.id}</span> {t.title}
                      {t.source === 'authored' && <span className="chip small">authored</span>}
                    </h3>
                    <ul className="plain-list">
                      {t.rules.map((r, i) => (
                        <li key={i}>
                          {r.text}
                          {r.because && <span className="rule-because"> · from {r.because}</span>}
                        </li>
                      ))}
                    </ul>
                  </li>
                ))}
              </ol>
            </Section>
          </>
        )}
      </main>
    </div>
  )
}

export function Requirements({ problem }: { problem: Problem }) {
  const f = problem.functional_requirements
  const n = problem.non_functional_requirements
  if (f == null && n == null) return null
  return (
    <Section title="Requirements">
      {f != null && (
        <>
          <h3>Functional</h3>
          <AnyValue value={f} />
        </>
      )}
      {n != null && (
        <>
          <h3>Non-functional</h3>
          <AnyValue value={n} />
        </>
      )}
    </Section>
  )
}
