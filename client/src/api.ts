/**
 * The HTTP API (docs/PROTOCOL.md §1): typed fetchers. Every error answer is
 * `{"error": "<sentence>", "code": "<snake_case>"}`; it becomes an {@link ApiError}.
 */
import type { HostAction, InterviewState } from './interview'
import { parseInterviewState } from './interview'
import type { Mode, Role } from './protocol'
import type { Design } from './schema'
import { parseSimulation, type ScenarioRequest, type SimulationResult } from './simulation'

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** Fetches a JSON answer; an error answer or an unreachable server becomes an {@link ApiError}. */
export async function request<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response
  try {
    res = await fetch(path, { ...init, headers: { Accept: 'application/json', ...init?.headers }, referrerPolicy: 'no-referrer' })
  } catch {
    throw new ApiError('the server cannot be reached', 0, 'network')
  }
  const text = await res.text()
  let body: unknown
  try {
    body = text ? JSON.parse(text) : null
  } catch {
    body = null
  }
  if (!res.ok) {
    const b = (body ?? {}) as { error?: string; code?: string }
    throw new ApiError(b.error ?? `${res.status} ${res.statusText}`, res.status, b.code ?? 'http_error')
  }
  if (body === null) throw new ApiError('the server sent an answer that is not JSON', res.status, 'bad_answer')
  return body as T
}

// ---- problems ----

export interface ProblemSummary {
  id: string
  title: string
  category: string
  difficulty: string | null
  summary: string
  tier_count: number
  tier_source: string
  /** What a learner can do with the problem (issue 21 item 6); absent from older servers. */
  offers?: Offers
  /** The family of near-identical problems this one is a variant of (issue 20 item 4). */
  family?: FamilyRef
  /** With `group: 'family'`: the family's other matching variants, in rank order. */
  variants?: ProblemSummary[]
}

export interface FamilyRef {
  id: string
  /** The words the variants share, `…` where they differ. */
  title: string
  /** Problems in the family, in the whole bank. */
  size: number
}

export interface Offers {
  tutorial: boolean
  checkpoints: number
  hints: number
  reference: boolean
  analysis: boolean
}

export interface ProblemList {
  /** Matching problems, every variant counted: what the facets add up to. */
  total: number
  /** Items over all pages (families shown once with `group: 'family'`); absent from older servers. */
  groups?: number
  page: number
  per_page: number
  items: ProblemSummary[]
  facets: { category: Record<string, number>; difficulty: Record<string, number> }
}

export interface ProblemQuery {
  q?: string
  category?: string
  difficulty?: string
  page?: number
  per_page?: number
  /** `family`: each family of near-identical problems once, its variants inside. */
  group?: 'family'
}

export function problemQueryString(q: ProblemQuery): string {
  const p = new URLSearchParams()
  if (q.q) p.set('q', q.q)
  if (q.category) p.set('category', q.category)
  if (q.difficulty) p.set('difficulty', q.difficulty)
  if (q.page && q.page > 1) p.set('page', String(q.page))
  if (q.per_page) p.set('per_page', String(q.per_page))
  if (q.group) p.set('group', q.group)
  const s = p.toString()
  return s ? `?${s}` : ''
}

export function listProblems(q: ProblemQuery, signal?: AbortSignal): Promise<ProblemList> {
  return request<ProblemList>(`/api/problems${problemQueryString(q)}`, { signal })
}

export interface TierRule {
  kind: string
  /**
   * The component type. Absent from the JSON of `path` (see `types`), `latency` and whole-design
   * `capacity` rules (PROTOCOL §5): typed as a string for the coaching code, which treats a missing type
   * as naming nothing.
   */
  type: string
  /** A `path` rule's types, in order. */
  types?: string[]
  /** A `capacity` rule's utilisation bound (0–1). */
  max_utilisation?: number
  /** A `latency` rule's bound in ms (absent: the problem's target). */
  max_ms?: number
  text: string
  count?: number
  param?: string
  min?: number
  max?: number
  derived_from?: string
  /** Where an authored rule comes from in the problem's own text (PROTOCOL §5). */
  because?: string
}

export interface Tier {
  id: string
  title: string
  source?: string
  /** Written by `tierboard-bank author --regenerate` (PROTOCOL §5). */
  generated?: boolean
  rules: TierRule[]
}

export interface Requirement {
  name: string
  text: string
}

export interface Constant {
  name: string
  type: 'integer' | 'float' | 'boolean' | 'string' | string
  value: number | string | boolean
}

export interface TextSection {
  heading: string
  text: string
}

export interface Checkpoint {
  question: string
  answer: string
  hint?: string
}

export interface Tutorial {
  text: string
  calculations?: { title: string; steps: string[] | string }[]
  checkpoints?: Checkpoint[]
}

export interface Targets {
  availability_percent?: number
  latency_ms?: Record<string, number>
  peak_rate_per_sec?: number
}

export interface Staff {
  heading: string
  migration_phases?: { phase: string; teams?: string; rollback?: string }[]
  blocks?: { title: string; items?: { text: string; details?: string[] | string }[] }[]
}

/**
 * A problem as `GET /api/problems/{id}` gives it: the file format of problems/README.md without the
 * answer (`reference_solution`, `analysis`, from {@link getSolution}). Fields the loader leaves out
 * when empty are optional; readers still coerce, since the bank may grow shapes.
 */
export interface Problem {
  id: string
  title: string
  category: string
  difficulty?: string | null
  origin?: { file: string; number: number }
  summary?: string
  goal?: string
  description?: string
  functional_requirements?: string[]
  available_components: string[]
  available_components_authored?: boolean
  hints?: string[]
  targets?: Targets
  non_functional_requirements?: Requirement[]
  constants?: Constant[]
  sections?: TextSection[]
  tutorial?: Tutorial
  tiers: Tier[]
  staff?: Staff | null
  [k: string]: unknown
}

export interface ReferenceNode {
  id: string
  type: string
  label: string
  x: number
  y: number
  params?: Record<string, number | string | boolean>
  filled_in?: string[]
  added?: boolean
}

export interface ReferenceSolution {
  source: string
  text?: string
  nodes: ReferenceNode[]
  edges: { id: string; from: string; to: string; added?: boolean }[]
}

export interface Analysis {
  overview?: string
  phases?: { name: string; title?: string; summary?: string; figures?: { name: string; value: string }[] }[]
  trade_offs?: { title: string; pros?: string[] | string; cons?: string[] | string; best_for?: string; cost?: string }[]
  cost?: { totals?: { name: string; value: string }[]; breakdown?: { name: string; value: string }[] }
  other?: string[] | string
}

/** `GET /api/problems/{id}/solution`: the answer, for after an attempt. */
export interface Solution {
  id: string
  reference_solution?: ReferenceSolution | null
  analysis?: Analysis | null
  staff?: Staff | null
}

export function getSolution(id: string, signal?: AbortSignal): Promise<Solution> {
  return request<Solution>(`/api/problems/${encodeURIComponent(id)}/solution`, { signal })
}

export function getProblem(id: string, signal?: AbortSignal): Promise<Problem> {
  return request<Problem>(`/api/problems/${encodeURIComponent(id)}`, { signal })
}

// ---- component catalog ----

export interface ParamDef {
  name: string
  type: 'integer' | 'number' | 'string' | 'boolean' | string
  unit?: string | null
  default?: unknown
  min?: number | null
  max?: number | null
  description?: string
}

export interface ComponentDef {
  type: string
  name: string
  kind: string
  family: string
  icon: string
  aliases: string[]
  params: ParamDef[]
}

export async function getComponents(signal?: AbortSignal): Promise<ComponentDef[]> {
  const b = await request<{ components: ComponentDef[] }>('/api/components', { signal })
  return b.components
}

// ---- rooms ----

export interface CreatedRoom {
  room: string
  mode?: Mode
  /** `host` is the creator's: it runs the room (issue 22). */
  tokens: { host?: string; edit: string; view: string }
}

export function createRoom(problem: string, mode: Mode = 'practice'): Promise<CreatedRoom> {
  return request<CreatedRoom>('/api/rooms', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ problem, mode }),
  })
}

export interface RoomInfo {
  room: string
  problem: string
  created: number
  role: Role
  mode?: Mode
  participants: number
}

function auth(token: string): RequestInit {
  return { headers: { Authorization: `Bearer ${token}` } }
}

function authJson(token: string, body: unknown): RequestInit {
  return { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) }
}

/**
 * `POST /api/rooms/{room}/rotate` (host only): revokes the room's `edit` or `view` links (their
 * connections are closed with 4401) and answers the new token.
 */
export async function rotateToken(room: string, hostToken: string, role: 'edit' | 'view'): Promise<string> {
  const b = await request<{ token: string }>(`/api/rooms/${encodeURIComponent(room)}/rotate`, authJson(hostToken, { role }))
  if (typeof b.token !== 'string' || !b.token) throw new ApiError('the server did not send a new token', 200, 'bad_answer')
  return b.token
}

/** `POST /api/rooms/{room}/host` (host only): one host action; answers the room's interview state. */
export async function hostAction(room: string, hostToken: string, action: HostAction): Promise<InterviewState> {
  const b = await request<unknown>(`/api/rooms/${encodeURIComponent(room)}/host`, authJson(hostToken, action))
  const state = parseInterviewState(b)
  if (!state) throw new ApiError('the server sent an interview state this page cannot read', 200, 'bad_answer')
  return state
}

/**
 * `GET /api/rooms/{room}/solution`: the room's answer, to the host always, to others in practice rooms
 * or once the host revealed it (403 otherwise). Never the public problem route, which an interview
 * server (`--hide-solutions`) does not serve.
 */
export function getRoomSolution(room: string, token: string, signal?: AbortSignal): Promise<Solution> {
  return request<Solution>(`/api/rooms/${encodeURIComponent(room)}/solution`, { ...auth(token), signal })
}

export function getRoom(room: string, token: string, signal?: AbortSignal): Promise<RoomInfo> {
  return request<RoomInfo>(`/api/rooms/${encodeURIComponent(room)}`, { ...auth(token), signal })
}

export function validateDesign(problem: string, design: Design): Promise<unknown> {
  return request<unknown>('/api/validate', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ problem, design }),
  })
}

/**
 * `POST /api/simulate`: the design under a scenario, for the person asking only (the room's shared
 * result stays at the problem's peak).
 */
export async function simulateDesign(
  problem: string,
  design: Design,
  scenario: ScenarioRequest,
  signal?: AbortSignal,
): Promise<SimulationResult> {
  const body = await request<unknown>('/api/simulate', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ problem, design, scenario }),
    signal,
  })
  const result = parseSimulation(body)
  if (!result) throw new ApiError('the server sent a simulation result this page cannot read', 200, 'bad_answer')
  return result
}

export interface TierEvent {
  at: number
  tier: string
  event: 'reached' | 'lost' | string
}

export async function getTimeline(room: string, token: string, signal?: AbortSignal): Promise<TierEvent[]> {
  const b = await request<{ events: TierEvent[] }>(`/api/rooms/${encodeURIComponent(room)}/timeline`, { ...auth(token), signal })
  return Array.isArray(b.events) ? b.events : []
}
