/**
 * "Popular interview questions" first on the landing page (issue 24, item 5): the classic questions
 * (Twitter, URL shortener, chat…) are what most learners come for, and in the id-ordered list of
 * 600 problems they were nowhere near the top. Shown only on the unfiltered first page, where a
 * learner has not yet asked for anything else.
 */
import { useEffect, useState } from 'react'
import { listProblems, type ProblemSummary } from '../api'
import { ProgressRing } from '../learn/ProgressBits'
import { useProgress } from '../learn/progress'
import { linkClick } from '../router'
import { DifficultyBadge } from './common'
import './landing.css'

export const POPULAR_CATEGORY = 'classic'

export function PopularShelf() {
  const [items, setItems] = useState<ProblemSummary[] | null>(null)
  const progress = useProgress()
  useEffect(() => {
    const ctl = new AbortController()
    listProblems({ category: POPULAR_CATEGORY, per_page: 24 }, ctl.signal).then(
      (list) => setItems(list.items),
      // The shelf is a shortcut: without it the full list below still offers every problem.
      () => setItems([]),
    )
    return () => ctl.abort()
  }, [])
  if (!items || items.length === 0) return null
  return (
    <section className="shelf" aria-labelledby="shelf-title">
      <h2 id="shelf-title">Popular interview questions</h2>
      <ul className="shelf-list">
        {items.map((p) => (
          <li key={p.id}>
            <a
              href={`/problems/${encodeURIComponent(p.id)}`}
              onClick={linkClick(`/problems/${encodeURIComponent(p.id)}`)}
              className="shelf-item"
            >
              <span className="shelf-title">{p.title}</span>
              <span className="shelf-meta">
                <DifficultyBadge value={p.difficulty} />
                {p.tier_count} tier{p.tier_count === 1 ? '' : 's'}
                {p.offers?.reference ? ' · reference' : ''}
                <ProgressRing progress={progress[p.id]} />
              </span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  )
}
