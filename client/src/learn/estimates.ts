/**
 * Estimates to practise where a problem has no tutorial (issue 21 item 3): questions built from its
 * targets, each with the arithmetic that gives the answer, checked like a tutorial checkpoint.
 */
import type { Problem } from '../api'
import { formatValue } from './units'

export interface Drill {
  question: string
  answer: string
  /** The working, shown after a wrong answer or on request. */
  hint: string
}

const SECONDS_PER_DAY = 86_400
const MINUTES_PER_YEAR = 365 * 24 * 60

function round(n: number, digits = 3): string {
  return String(Number(n.toPrecision(digits)))
}

export function estimateDrills(problem: Problem): Drill[] {
  const t = problem.targets ?? {}
  const out: Drill[] = []
  if (t.peak_rate_per_sec) {
    const perDay = t.peak_rate_per_sec * SECONDS_PER_DAY
    out.push({
      question: `At its peak of ${formatValue(t.peak_rate_per_sec)} requests per second, how many requests (in millions) would a whole day at peak bring?`,
      answer: round(perDay / 1e6),
      hint: `${formatValue(t.peak_rate_per_sec)} × 86,400 s = ${formatValue(perDay)} ≈ ${round(perDay / 1e6)} million`,
    })
    out.push({
      question: `If one server handles 1,000 requests per second, how many servers does the peak need (before any headroom)?`,
      answer: String(Math.ceil(t.peak_rate_per_sec / 1000)),
      hint: `⌈${formatValue(t.peak_rate_per_sec)} ÷ 1,000⌉ = ${Math.ceil(t.peak_rate_per_sec / 1000)}`,
    })
  }
  if (t.availability_percent && t.availability_percent < 100) {
    const down = (1 - t.availability_percent / 100) * MINUTES_PER_YEAR
    out.push({
      question: `${formatValue(t.availability_percent)}% availability allows how many minutes of downtime per year?`,
      answer: round(down),
      hint: `(1 − ${formatValue(t.availability_percent / 100)}) × 525,600 min = ${round(down)} min`,
    })
  }
  return out
}
