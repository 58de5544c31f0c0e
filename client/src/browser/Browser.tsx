/**
 * The problem browser: search, category and difficulty facets with counts, cards, pagination; and
 * the learner's own progress (issue 21): a ring per card, a not started / in progress / done filter,
 * what each problem offers, export / import of the progress file.
 */
import { useEffect, useState } from 'react'
import { listProblems, problemQueryString, type ProblemList, type ProblemQuery, type ProblemSummary } from '../api'
import { TopBar } from '../TopBar'
import { linkClick, navigate } from '../router'
import { OfferChips, ProgressFile, ProgressRing } from '../learn/ProgressBits'
import { statusOf, useProgress, type Progress, type Status } from '../learn/progress'
import { DifficultyBadge, difficultyOrder } from './common'
import { YourRooms } from './YourRooms'
import { PopularShelf } from './PopularShelf'

const STATUSES: Record<Status, string> = { 'not-started': 'Not started', 'in-progress': 'In progress', done: 'Done' }

function isStatus(s: string | null): s is Status {
  return s !== null && s in STATUSES
}

/** Started problems with a status, searched by title: progress lives in this browser, not on the server. */
function startedWith(progress: Progress, status: Status, text: string) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean)
  return Object.entries(progress)
    .filter(([, p]) => statusOf(p) === status)
    .filter(([id, p]) => words.every((w) => `${p.title ?? ''} ${id}`.toLowerCase().includes(w)))
    .sort((a, b) => b[1].updated - a[1].updated)
}

export const PER_PAGE = 24

export function queryFrom(params: URLSearchParams): ProblemQuery {
  const page = Number(params.get('page') ?? '1')
  return {
    q: params.get('q') ?? '',
    category: params.get('category') ?? '',
    difficulty: params.get('difficulty') ?? '',
    page: Number.isInteger(page) && page > 0 ? page : 1,
  }
}

function go(q: ProblemQuery) {
  navigate(`/${problemQueryString(q)}`, { replace: true })
}

export function Browser({ query }: { query: URLSearchParams }) {
  const q = queryFrom(query)
  const key = problemQueryString(q)
  const [result, setResult] = useState<{ key: string; list?: ProblemList; error?: string } | null>(null)
  const [text, setText] = useState(q.q ?? '')
  const progress = useProgress()
  const rawStatus = query.get('status')
  const status = isStatus(rawStatus) ? rawStatus : null
  const setStatus = (s: string) => {
    const p = new URLSearchParams(problemQueryString(q).slice(1))
    if (s) p.set('status', s)
    navigate(`/${p.toString() ? `?${p}` : ''}`, { replace: true })
  }
  const startedView = status === 'in-progress' || status === 'done'
  const startedCounts = { 'in-progress': 0, done: 0 }
  for (const p of Object.values(progress)) {
    const s = statusOf(p)
    if (s !== 'not-started') startedCounts[s]++
  }

  useEffect(() => {
    const ctl = new AbortController()
    listProblems({ ...q, per_page: PER_PAGE, group: 'family' }, ctl.signal).then(
      (list) => setResult({ key, list }),
      (e: Error) => {
        if (!ctl.signal.aborted) setResult({ key, error: e.message })
      },
    )
    return () => ctl.abort()
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the key encodes the query
  }, [key])

  // Search as you type, debounced; the URL holds the query so Back and reload keep it.
  useEffect(() => {
    if (text === (q.q ?? '')) return
    const t = setTimeout(() => go({ ...q, q: text, page: 1 }), 250)
    return () => clearTimeout(t)
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only the typed text triggers this
  }, [text])

  const list = result?.list
  const loading = result?.key !== key
  // Pages count cards: a family of near-identical variants is one card.
  const pages = list ? Math.max(1, Math.ceil((list.groups ?? list.total) / (list.per_page || PER_PAGE))) : 1

  return (
    <div className="page">
      <TopBar />
      <main className="content browser">
        <section className="hero">
          <h1>Practise system design together</h1>
          <p>Pick a problem, draw the architecture with a partner, and watch the tiers turn green as the design meets them.</p>
          <form
            className="search"
            role="search"
            onSubmit={(e) => {
              e.preventDefault()
              go({ ...q, q: text, page: 1 })
            }}
          >
            <input
              type="search"
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder="Search problems: rate limiter, chat, news feed…"
              aria-label="Search problems"
              autoFocus
            />
          </form>
        </section>
        <YourRooms />
        {!q.q && !q.category && !q.difficulty && !status && (q.page ?? 1) === 1 && <PopularShelf />}
        <div className="browser-body">
          <aside className="facets" aria-label="Filters">
            <Facet
              title="Your progress"
              counts={{
                'In progress': startedCounts['in-progress'],
                Done: startedCounts.done,
                'Not started': Math.max(0, (list?.total ?? 0) - startedCounts['in-progress'] - startedCounts.done),
              }}
              selected={status ? STATUSES[status] : ''}
              order={(a, b) => Object.values(STATUSES).indexOf(a) - Object.values(STATUSES).indexOf(b)}
              onSelect={(v) => setStatus(Object.entries(STATUSES).find(([, label]) => label === v)?.[0] ?? '')}
            />
            <Facet
              title="Difficulty"
              counts={list?.facets.difficulty ?? {}}
              selected={q.difficulty ?? ''}
              order={difficultyOrder}
              onSelect={(v) => go({ ...q, difficulty: v, page: 1 })}
            />
            <Facet
              title="Category"
              counts={list?.facets.category ?? {}}
              selected={q.category ?? ''}
              onSelect={(v) => go({ ...q, category: v, page: 1 })}
            />
            <ProgressFile />
          </aside>
          <section className="results" aria-live="polite" aria-busy={loading}>
            {result?.error && <p className="error-box">Could not load problems: {result.error}</p>}
            {list && !startedView && (
              <p className="muted result-count">
                {list.total} problem{list.total === 1 ? '' : 's'}
                {q.q ? ` matching “${q.q}”` : ''}
                {list.groups !== undefined && list.groups < list.total && (
                  <span className="result-groups"> · {list.groups} distinct: near-identical variants are shown once per family</span>
                )}
              </p>
            )}
            {status && startedView ? (
              <StartedList items={startedWith(progress, status, q.q ?? '')} />
            ) : (
              <ul className="cards">
                {list?.items
                  .filter((p) => status !== 'not-started' || !progress[p.id])
                  .map((p) => (
                    <ProblemCard key={p.id} p={p} progress={progress} />
                  ))}
              </ul>
            )}
            {list && list.total === 0 && <p className="empty">No problem matches. Try fewer words or clear a filter.</p>}
            {list && pages > 1 && !startedView && (
              <nav className="pager" aria-label="Pages">
                <button type="button" disabled={(q.page ?? 1) <= 1} onClick={() => go({ ...q, page: (q.page ?? 1) - 1 })}>
                  ← Previous
                </button>
                <span>
                  Page {q.page ?? 1} of {pages}
                </span>
                <button type="button" disabled={(q.page ?? 1) >= pages} onClick={() => go({ ...q, page: (q.page ?? 1) + 1 })}>
                  Next →
                </button>
              </nav>
            )}
          </section>
        </div>
      </main>
    </div>
  )
}

function CardLink({ p, progress, head }: { p: ProblemSummary; progress: Progress; head?: string }) {
  const href = `/problems/${encodeURIComponent(p.id)}`
  return (
    <a href={href} onClick={linkClick(href)} className="card-link">
      <div className="card-head">
        <h2>{p.title}</h2>
      </div>
      {head && <p className="card-family">{head}</p>}
      <p className="card-summary">{p.summary}</p>
      <div className="card-meta">
        <DifficultyBadge value={p.difficulty} />
        <span className="chip">{p.category}</span>
        <span className="chip" title={p.tier_source === 'authored' ? 'tiers authored for tierboard' : 'tiers from the seed'}>
          {p.tier_count} tier{p.tier_count === 1 ? '' : 's'}
        </span>
        <ProgressRing progress={progress[p.id]} />
      </div>
      <OfferChips offers={p.offers} />
    </a>
  )
}

/**
 * One card: a problem, or a family of near-identical problems (issue 20 item 4) shown once, by its
 * best-ranked matching variant, with the family's other matching variants behind a disclosure.
 */
function ProblemCard({ p, progress }: { p: ProblemSummary; progress: Progress }) {
  const variants = p.variants ?? []
  if (!p.family) {
    return (
      <li className="card">
        <CardLink p={p} progress={progress} />
      </li>
    )
  }
  const matching = variants.length + 1
  return (
    <li className="card family" data-family={p.family.id}>
      <CardLink p={p} progress={progress} head={`One of ${p.family.size} near-identical variants: ${p.family.title}`} />
      {variants.length > 0 && (
        <details className="variants">
          <summary>
            {matching === p.family.size ? `All ${matching} variants` : `${matching} of the ${p.family.size} variants match`}
          </summary>
          <ul>
            {variants.map((v) => {
              const href = `/problems/${encodeURIComponent(v.id)}`
              return (
                <li key={v.id} className="variant">
                  <a href={href} onClick={linkClick(href)}>
                    {v.title}
                  </a>
                  <ProgressRing progress={progress[v.id]} />
                </li>
              )
            })}
          </ul>
        </details>
      )}
    </li>
  )
}

function Facet(props: {
  title: string
  counts: Record<string, number>
  selected: string
  order?: (a: string, b: string) => number
  onSelect: (v: string) => void
}) {
  const entries = Object.entries(props.counts)
  entries.sort(props.order ? (a, b) => props.order!(a[0], b[0]) : (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
  return (
    <fieldset className="facet">
      <legend>{props.title}</legend>
      <button
        type="button"
        className={`facet-item ${props.selected === '' ? 'on' : ''}`}
        aria-pressed={props.selected === ''}
        onClick={() => props.onSelect('')}
      >
        <span>All</span>
      </button>
      {entries.map(([name, n]) => (
        <button
          type="button"
          key={name}
          className={`facet-item ${props.selected === name ? 'on' : ''}`}
          aria-pressed={props.selected === name}
          onClick={() => props.onSelect(props.selected === name ? '' : name)}
        >
          <span>{name}</span>
          <span className="count">{n}</span>
        </button>
      ))}
    </fieldset>
  )
}

function StartedList({ items }: { items: [string, Progress[string]][] }) {
  if (items.length === 0) return <p className="empty">Nothing here yet.</p>
  return (
    <ul className="cards">
      {items.map(([id, p]) => (
        <li key={id} className="card">
          <a href={`/problems/${encodeURIComponent(id)}`} onClick={linkClick(`/problems/${encodeURIComponent(id)}`)} className="card-link">
            <div className="card-head">
              <h2>{p.title ?? id}</h2>
            </div>
            <div className="card-meta">
              <span className="chip">
                {p.bestTier} of {p.tiers} tiers
              </span>
              {p.checkpointCount > 0 && (
                <span className="chip">
                  {p.checkpoints.length} of {p.checkpointCount} checkpoints
                </span>
              )}
              <span className="chip">{p.hintsUsed} hints used</span>
              <ProgressRing progress={p} />
            </div>
          </a>
        </li>
      ))}
    </ul>
  )
}
