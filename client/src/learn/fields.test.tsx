// @vitest-environment jsdom
// No content of the bank is unreachable (issue 21): every field of the problem file format has a
// component that shows it, and the problem page really renders each field of real problems.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { act } from 'react'
import { ProblemPage } from '../browser/ProblemPage'
import { PROBLEMS } from '../testing/fixtures'
import { setupHost } from '../testing/render'
import { FIELD_VIEWS } from './fields'

/** The top-level field names of the README's "File format" table. */
function readmeFields(): string[] {
  const text = readFileSync(path.resolve(__dirname, '../../../problems/README.md'), 'utf8')
  const table = text.split('## File format')[1].split('### Tiers')[0]
  const names = new Set<string>()
  for (const line of table.split('\n')) {
    const cell = /^\|\s*([^|]+)\|/.exec(line)?.[1] ?? ''
    for (const m of cell.matchAll(/`\[*([a-z_]+)\]*`/g)) names.add(m[1])
  }
  return [...names].sort()
}

describe('problem format coverage', () => {
  it('lists every field of the README table, and only those', () => {
    const fields = readmeFields()
    expect(fields.length).toBeGreaterThan(15)
    expect(Object.keys(FIELD_VIEWS).sort()).toEqual(fields)
  })

  it('has fixtures that together hold every field', () => {
    const present = new Set(
      Object.values(PROBLEMS).flatMap(({ problem, solution }) => [
        ...Object.keys(problem),
        ...Object.keys(solution).filter((k) => k !== 'id' && solution[k as keyof typeof solution]),
      ]),
    )
    expect(Object.keys(FIELD_VIEWS).filter((f) => !present.has(f))).toEqual([])
  })
})

describe('the problem page renders every field it is given', () => {
  const dom = setupHost()
  beforeEach(() => localStorage.clear())
  afterEach(() => vi.unstubAllGlobals())

  for (const [id, { problem, solution }] of Object.entries(PROBLEMS)) {
    it(
      id,
      async () => {
        const host = dom.host()
        vi.stubGlobal(
          'fetch',
          vi.fn(async (url: string) => {
            const body = url.endsWith('/solution') ? solution : url.startsWith('/api/problems/') ? problem : { components: [] }
            return new Response(JSON.stringify(body), { status: 200 })
          }),
        )
        await act(async () => dom.root().render(<ProblemPage id={id} />))
        await vi.waitFor(() => expect(host.querySelector('h1')?.textContent).toBe(problem.title))
        // Reveal everything a learner can reveal: all hints, the answer.
        for (;;) {
          const more = [...host.querySelectorAll('button')].find((b) => /^Show hint/.test(b.textContent ?? ''))
          if (!more) break
          await act(async () => more.click())
        }
        const tiers = [...host.querySelectorAll('button')].find((b) => b.textContent === 'Show the tiers')
        if (tiers) await act(async () => tiers.click())
        const answer = [...host.querySelectorAll('button')].find((b) => /reference design/.test(b.textContent ?? ''))!
        await act(async () => answer.click())
        await vi.waitFor(() => expect(host.querySelector('[data-field="reference_solution"]')).not.toBeNull())
        const given = [
          ...new Set([...Object.keys(problem), ...Object.keys(solution).filter((k) => k !== 'id' && solution[k as keyof typeof solution])]),
        ]
        const missing = given.filter((f) => {
          const el = host.querySelector(`[data-field="${f}"]`)
          return !el || !el.textContent?.trim()
        })
        expect(missing).toEqual([])
        // every section's heading and every hint's text is there in full
        for (const s of problem.sections ?? []) expect(host.textContent).toContain(s.heading)
        for (const h of problem.hints ?? []) expect(host.querySelector('.hints')!.textContent).toContain(h.replace(/\*\*/g, '').slice(-30))
      },
      30_000, // rendering a whole problem page in jsdom is slow on a busy machine
    )
  }
})
