/** The problem browser: search, category and difficulty facets with counts, cards, pagination. */
import { useEffect, useState } from 'react'
import { listProblems, problemQueryString, type ProblemList, type ProblemQuery } from '../api'
import { TopBar } from '../TopBar'
import { linkClick, navigate } from '../router'
import { DifficultyBadge, difficultyOrder } from './common'

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

  useEffect(() => {
    const ctl = new AbortController()
    listProblems({ ...q, per_page: PER_PAGE }, ctl.signal).then(
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
  const pages = list ? Math.max(1, Math.ceil(list.total / (list.per_page || PER_PAGE))) : 1

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
        <div className="browser-body">
          <aside className="facets" aria-label="Filters">
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
          </aside>
          <section className="results" aria-live="polite" aria-busy={loading}>
            {result?.error && <p className="error-box">Could not load problems: {result.error}</p>}
            {list && (
              <p className="muted result-count">
                {list.total} problem{list.total === 1 ? '' : 's'}
                {q.q ? ` matching “${q.q}”` : ''}
              </p>
            )}
            <ul className="cards">
              {list?.items.map((p) => (
                <li key={p.id} className="card">
                  <a
                    href={`/problems/${encodeURIComponent(p.id)}`}
                    onClick={linkClick(`/problems/${encodeURIComponent(p.id)}`)}
                    className="card-link"
                  >
                    <div className="card-head">
                      <h2>{p.title}</h2>
                    </div>
                    <p className="card-summary">{p.summary}</p>
                    <div className="card-meta">
                      <DifficultyBadge value={p.difficulty} />
                      <span className="chip">{p.category}</span>
                      <span className="chip" title={p.tier_source === 'authored' ? 'tiers authored for tierboard' : 'tiers from the seed'}>
                        {p.tier_count} tier{p.tier_count === 1 ? '' : 's'}
                      </span>
                    </div>
                  </a>
                </li>
              ))}
            </ul>
            {list && list.total === 0 && <p className="empty">No problem matches. Try fewer words or clear a filter.</p>}
            {list && pages > 1 && (
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
