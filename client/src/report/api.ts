/**
 * The session report's HTTP routes (docs/PROTOCOL.md §1 and §8; issue 23): the report, the replay
 * (`history?at=`), the scorecard and sharing. Tokens come from the page's fragment, never a query the
 * browser would log: `#host=…`, `#edit=…` or `#view=…`.
 */
import { request } from '../api'
import type { Design } from '../schema'
import type { ValidationResult } from '../protocol'
import type { ApiOverride, SectionChecks, Sections } from './sections'

/** Errors of these routes are the API's own (`{"error", "code"}`), raised by the shared fetcher. */
export { ApiError as ReportError } from '../api'

/** The shared fetcher with a JSON body type: every route here answers JSON. */
function call<T>(path: string, init?: RequestInit): Promise<T> {
  return request<T>(path, { ...init, headers: { 'Content-Type': 'application/json', ...init?.headers } })
}

/** The strongest token in a fragment (`#host=…&edit=…`). */
export function reportToken(hash: string): { token: string; role: 'host' | 'edit' | 'view' } | null {
  const p = new URLSearchParams(hash.replace(/^#/, ''))
  for (const role of ['host', 'edit', 'view'] as const) {
    const t = p.get(role)
    if (t) return { token: t, role }
  }
  return null
}

export interface TierEvent {
  at: number
  tier: string
  event: 'reached' | 'lost'
}

export interface Dimension {
  id: string
  title: string
  criteria: string
  score: number | null
  comment: string
  evidence: string[]
}

export interface Scorecard {
  scale: { min: number; max: number; labels: string[] }
  dimensions: Dimension[]
  summary: string
  recommendation: string | null
  /** The host's verdicts on the API checklist (the `api_override` host action). */
  api_overrides: Record<string, ApiOverride>
}

export interface Report {
  room: string
  mode: 'practice' | 'interview'
  created: number
  generated: number
  shared: boolean
  include_notes: boolean
  problem: { id: string; title: string; summary: string; functional_requirements: string[] }
  participants: { client: number; updates: number; first: number; last: number; components_added: number }[]
  started: number | null
  ended: number | null
  phases: { name: string; planned_ms: number; spent_ms: number; started: number | null }[]
  tier_timeline: TierEvent[]
  capacity: {
    at: number
    throughput_rps: number
    error_rate: number
    p99_ms: number
    bottleneck: string | null
    monthly_usd: number
    sustains_peak: string | null
    nodes: number
  }[]
  components: { node: string; type: string; label: string; client: number | null; at: number }[]
  design: Design
  validation: ValidationResult
  sections: Sections
  section_checks: SectionChecks
  revealed_hints: { index: number; text: string }[]
  host_actions: { at: number; action: { action: string } & Record<string, unknown> }[]
  scorecard: Scorecard
  notes: string | null
  history: { rows: number; bytes: number }
  /** The replay's first frame (interview rooms): `history?at=` at the scrubber's end, computed with the report. */
  replay_start: HistoryAt | null
}

export interface HistoryAt {
  at: number
  rows: number
  design: Design
  sections: Sections
  validation: ValidationResult
  section_checks: SectionChecks
}

const q = (token: string) => `token=${encodeURIComponent(token)}`
const base = (room: string) => `/api/rooms/${encodeURIComponent(room)}`

export function getReport(room: string, token: string, signal?: AbortSignal): Promise<Report> {
  return call(`${base(room)}/report?${q(token)}`, { signal })
}

export function getHistory(room: string, token: string, at: number, signal?: AbortSignal): Promise<HistoryAt> {
  return call(`${base(room)}/history?${q(token)}&at=${Math.round(at)}`, { signal })
}

export interface ScorecardInput {
  scores: Record<string, { score: number | null; comment: string }>
  summary: string
  recommendation: string | null
}

export function putScorecard(room: string, token: string, input: ScorecardInput): Promise<Scorecard> {
  return call(`${base(room)}/scorecard?${q(token)}`, { method: 'PUT', body: JSON.stringify(input) })
}

export function shareReport(
  room: string,
  token: string,
  shared: boolean,
  includeNotes: boolean,
): Promise<{ shared: boolean; include_notes: boolean }> {
  return call(`${base(room)}/report/share?${q(token)}`, {
    method: 'POST',
    body: JSON.stringify({ shared, include_notes: includeNotes }),
  })
}
