/**
 * The interview state of a room (docs/PROTOCOL.md §7, issue 22) as the client reads it: the types, a
 * parser that never trusts the wire, the host actions, and the pure rules the UI shows: the shared
 * clock's remaining time from the server's `ends_at` and `now`, who may edit and why not, the phase
 * names, and the curveball's words.
 */
import type { LoadSpec, ScenarioRequest } from './simulation'

/**
 * `host` runs the room (issue 22), `edit` is the candidate (or everyone), `view` an observer. Defined
 * here, where the rules about roles live; `protocol.ts` re-exports it for the messages.
 */
export type Role = 'host' | 'edit' | 'view'
export type Mode = 'practice' | 'interview'

export interface Phase {
  name: string
  minutes: number
}

export interface Clock {
  phase: number
  phases: Phase[]
  /** Running: the end of the phase (server epoch ms). */
  ends_at: number | null
  /** Paused or not started: what is left of the phase. */
  paused_remaining_ms: number | null
}

export interface RevealedHint {
  index: number
  text: string
}

export interface InterviewState {
  mode: Mode
  locked: boolean
  /** The awareness client id of the participant who drives, or null (everyone with an edit link). */
  driver: number | null
  clock: Clock
  revealed_hints: RevealedHint[]
  solution_revealed: boolean
  curveball: ScenarioRequest | null
  /** The host's verdicts on the API checklist: functional requirement → verdict (issue 23). */
  api_overrides: Record<string, { covered: boolean; by: string; at: number }>
}

/** What only the host's connection receives (the `host` message). */
export interface HostView {
  hints: string[]
  notes: string
}

export type HostAction =
  | { action: 'lock' | 'unlock' | 'reveal_solution' | 'hide_solution' | 'clock_pause' | 'next_phase' | 'clear_curveball' }
  | { action: 'reveal_hint'; index: number }
  | { action: 'clock_start'; phases?: Phase[] }
  | { action: 'driver'; client: number | null }
  | { action: 'curveball'; scenario: Partial<ScenarioRequest> }
  | { action: 'notes'; text: string }
  | { action: 'api_override'; requirement: string; covered: boolean | null; by?: string }

export const DEFAULT_PHASES: Phase[] = [
  { name: 'requirements', minutes: 5 },
  { name: 'estimates', minutes: 5 },
  { name: 'api_and_data_model', minutes: 10 },
  { name: 'high_level_design', minutes: 15 },
  { name: 'deep_dive', minutes: 10 },
]

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

function parseLoad(v: unknown): LoadSpec {
  if (v === 'normal' || v === 'peak') return v
  return num(v) ?? 'peak'
}

export function parseScenario(v: unknown): ScenarioRequest | null {
  if (!isRecord(v)) return null
  return {
    load: parseLoad(v.load),
    fail: Array.isArray(v.fail) ? v.fail.filter((x): x is string => typeof x === 'string') : [],
    cold_cache: v.cold_cache === true,
  }
}

/** Normalises the `state` of an `interview` / `host` message; null when it is not one. */
export function parseInterviewState(v: unknown): InterviewState | null {
  if (!isRecord(v) || !isRecord(v.clock)) return null
  const c = v.clock
  const phases = (Array.isArray(c.phases) ? c.phases : [])
    .filter(isRecord)
    .map((p) => ({ name: String(p.name ?? ''), minutes: num(p.minutes) ?? 0 }))
  return {
    mode: v.mode === 'interview' ? 'interview' : 'practice',
    locked: v.locked === true,
    driver: num(v.driver),
    clock: {
      phase: Math.max(0, Math.min(num(c.phase) ?? 0, Math.max(0, phases.length - 1))),
      phases,
      ends_at: num(c.ends_at),
      paused_remaining_ms: num(c.paused_remaining_ms),
    },
    revealed_hints: (Array.isArray(v.revealed_hints) ? v.revealed_hints : [])
      .filter(isRecord)
      .map((h) => ({ index: num(h.index) ?? 0, text: String(h.text ?? '') })),
    solution_revealed: v.solution_revealed === true,
    curveball: v.curveball == null ? null : parseScenario(v.curveball),
    api_overrides: parseOverrides(v.api_overrides),
  }
}

function parseOverrides(v: unknown): InterviewState['api_overrides'] {
  const out: InterviewState['api_overrides'] = {}
  if (!isRecord(v)) return out
  for (const [req, o] of Object.entries(v)) {
    if (isRecord(o) && typeof o.covered === 'boolean') out[req] = { covered: o.covered, by: String(o.by ?? 'host'), at: num(o.at) ?? 0 }
  }
  return out
}

// ---- the clock ----

export interface ClockView {
  phase: Phase | null
  /** 1-based, for "phase 2 of 5". */
  number: number
  total: number
  running: boolean
  /** Never started: paused at the first phase with its whole length. */
  notStarted: boolean
  remainingMs: number
  /** Running past the phase's end. */
  overtime: boolean
  last: boolean
}

/**
 * What the clock shows at local time `localNow`, given `offset` = server time − local time (estimated
 * from the messages' `now`): a running phase ends at the server's `ends_at`, so every participant
 * sees the same remaining time whatever their own clock says.
 */
export function clockView(clock: Clock, offset: number, localNow: number): ClockView {
  const phase = clock.phases[clock.phase] ?? null
  const total = clock.phases.length
  const full = phase ? Math.round(phase.minutes * 60_000) : 0
  const running = clock.ends_at !== null
  const remainingMs = running ? clock.ends_at! - (localNow + offset) : (clock.paused_remaining_ms ?? full)
  return {
    phase,
    number: clock.phase + 1,
    total,
    running,
    notStarted: !running && clock.phase === 0 && remainingMs === full,
    remainingMs,
    overtime: running && remainingMs < 0,
    last: clock.phase >= total - 1,
  }
}

/** `12:05`, `1:02:03`; overtime as `+0:42`. */
export function formatClock(ms: number): string {
  const neg = ms < 0
  // Count down whole seconds: 4:59.2 left shows 5:00 until it is below 4:59.
  const s = neg ? Math.floor(-ms / 1000) : Math.ceil(ms / 1000)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = String(s % 60).padStart(2, '0')
  const body = h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`
  return neg ? `+${body}` : body
}

/** `api_and_data_model` → `API and data model`. */
export function phaseLabel(name: string): string {
  return name
    .split(/[_\s]+/)
    .filter(Boolean)
    .map((w, i) => (w.toLowerCase() === 'api' ? 'API' : i === 0 ? w[0].toUpperCase() + w.slice(1) : w))
    .join(' ')
}

/** The offset to add to the local clock to get the server's: from a message's `now` and when it arrived. */
export function serverOffset(serverNow: number, receivedAt: number): number {
  return serverNow - receivedAt
}

// ---- who may edit ----

export type EditBlock = 'view' | 'locked' | 'not_driver' | null

/**
 * Why this participant may not edit the canvas now (null: they may). The host always may; a view link
 * never does; while the host has locked the canvas or someone else drives, the server refuses the
 * candidate's edits, so the canvas is read-only before they try.
 */
export function editBlock(role: Role | null, state: InterviewState | null, clientID: number): EditBlock {
  if (role === 'view' || role === null) return 'view'
  if (role === 'host' || !state) return null
  if (state.locked) return 'locked'
  if (state.driver !== null && state.driver !== clientID) return 'not_driver'
  return null
}

// ---- curveballs ----

/** A curveball in words, for the banner everyone sees. */
export function curveballText(s: ScenarioRequest, peakRps: number | null, nodeLabel: (id: string) => string): string {
  const parts: string[] = []
  if (typeof s.load === 'number') {
    const rate = peakRps ? ` (${Math.round(s.load * peakRps).toLocaleString('en-US')} rps)` : ''
    parts.push(s.load === 1 ? 'traffic at peak' : `traffic at ${trimNumber(s.load)}× peak${rate}`)
  } else if (s.load === 'normal') parts.push('traffic back to normal')
  if (s.fail.length > 0) parts.push(`${s.fail.map(nodeLabel).join(', ')} ${s.fail.length === 1 ? 'has' : 'have'} failed`)
  if (s.cold_cache) parts.push('the caches are cold')
  if (parts.length === 0) return 'Scenario at peak'
  const text = parts.join('; ')
  return text[0].toUpperCase() + text.slice(1)
}

export function trimNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '').replace(/\.$/, '')
}
