/**
 * The capacity simulation's result (docs/PROTOCOL.md §6, docs/SIMULATION.md) as the client reads it:
 * the types, a parser that never trusts the wire, the heat scale the canvas colours nodes with, and
 * the sentences the panel builds from the figures (the bottleneck's arithmetic).
 */

export type LoadSpec = 'normal' | 'peak' | number

/** `{"load", "fail", "cold_cache"}` of `POST /api/simulate`. */
export interface ScenarioRequest {
  load: LoadSpec
  fail: string[]
  cold_cache: boolean
}

export const PEAK: ScenarioRequest = { load: 'peak', fail: [], cold_cache: false }

export function isPlainPeak(s: ScenarioRequest): boolean {
  return s.load === 'peak' && s.fail.length === 0 && !s.cold_cache
}

export interface SimScenario {
  load: LoadSpec
  multiplier: number
  offered_rps: number
  read_share: number
  read_rps: number
  write_rps: number
  peak_rps: number
  normal_rps: number
  read_share_from: string
  default_hit_rate: number
  latency_target_ms: number
  latency_percentile: string
  availability_percent: number
  fail: string[]
  cold_cache: boolean
  defaults: string[]
}

export interface SimNode {
  type: string
  label: string
  role: string
  async: boolean
  instances: number
  offered_rps: number
  read_rps: number
  write_rps: number
  served_rps: number
  capacity_rps: number
  utilisation: number
  latency_ms: number
  p99_ms: number
  error_rate: number
  backlog_rps: number
  failed: boolean
  monthly_usd: number
}

export interface SimEdge {
  from: string
  to: string
  rps: number
  off_path: boolean
}

export interface SimCheck {
  id: string
  title: string
  status: 'pass' | 'fail' | 'info'
  explanation: string
  nodes: string[]
}

export interface SimIssue {
  code: string
  message: string
  nodes: string[]
  edges: string[]
}

export interface SimulationResult {
  problem: string
  scenario: SimScenario
  nodes: Record<string, SimNode>
  edges: Record<string, SimEdge>
  end_to_end: { throughput_rps: number; error_rate: number; mean_ms: number; p50_ms: number; p99_ms: number }
  bottleneck: string | null
  monthly_usd: number
  checks: SimCheck[]
  explanations: string[]
  design_issues: SimIssue[]
}

// ---- parsing ----

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** A finite, non-negative figure (anything else reads as 0: the UI never shows NaN). */
function fig(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

function load(v: unknown): LoadSpec {
  if (v === 'normal' || v === 'peak') return v
  return typeof v === 'number' && Number.isFinite(v) ? v : 'peak'
}

function entries<T>(v: unknown, read: (r: Record<string, unknown>) => T): Record<string, T> {
  const out: Record<string, T> = {}
  if (!isRecord(v)) return out
  for (const [k, x] of Object.entries(v)) if (isRecord(x)) out[k] = read(x)
  return out
}

/** Normalises a simulation result from the server; null when it is not one. */
export function parseSimulation(v: unknown): SimulationResult | null {
  if (!isRecord(v) || !isRecord(v.scenario) || !isRecord(v.nodes) || !isRecord(v.end_to_end)) return null
  const s = v.scenario
  const e = v.end_to_end
  return {
    problem: str(v.problem),
    scenario: {
      load: load(s.load),
      multiplier: fig(s.multiplier),
      offered_rps: fig(s.offered_rps),
      read_share: fig(s.read_share),
      read_rps: fig(s.read_rps),
      write_rps: fig(s.write_rps),
      peak_rps: fig(s.peak_rps),
      normal_rps: fig(s.normal_rps),
      read_share_from: str(s.read_share_from),
      default_hit_rate: fig(s.default_hit_rate),
      latency_target_ms: fig(s.latency_target_ms),
      latency_percentile: str(s.latency_percentile) || 'p99',
      availability_percent: fig(s.availability_percent),
      fail: strings(s.fail),
      cold_cache: s.cold_cache === true,
      defaults: strings(s.defaults),
    },
    nodes: entries(v.nodes, (n) => ({
      type: str(n.type),
      label: str(n.label),
      role: str(n.role),
      async: n.async === true,
      instances: fig(n.instances),
      offered_rps: fig(n.offered_rps),
      read_rps: fig(n.read_rps),
      write_rps: fig(n.write_rps),
      served_rps: fig(n.served_rps),
      capacity_rps: fig(n.capacity_rps),
      utilisation: fig(n.utilisation),
      latency_ms: fig(n.latency_ms),
      p99_ms: fig(n.p99_ms),
      error_rate: Math.min(1, fig(n.error_rate)),
      backlog_rps: fig(n.backlog_rps),
      failed: n.failed === true,
      monthly_usd: fig(n.monthly_usd),
    })),
    edges: entries(v.edges, (x) => ({ from: str(x.from), to: str(x.to), rps: fig(x.rps), off_path: x.off_path === true })),
    end_to_end: {
      throughput_rps: fig(e.throughput_rps),
      error_rate: Math.min(1, fig(e.error_rate)),
      mean_ms: fig(e.mean_ms),
      p50_ms: fig(e.p50_ms),
      p99_ms: fig(e.p99_ms),
    },
    bottleneck: typeof v.bottleneck === 'string' ? v.bottleneck : null,
    monthly_usd: fig(v.monthly_usd),
    checks: (Array.isArray(v.checks) ? v.checks : []).filter(isRecord).map((c) => ({
      id: str(c.id),
      title: str(c.title),
      status: c.status === 'pass' || c.status === 'fail' ? c.status : 'info',
      explanation: str(c.explanation),
      nodes: strings(c.nodes),
    })),
    explanations: strings(v.explanations),
    design_issues: (Array.isArray(v.design_issues) ? v.design_issues : []).filter(isRecord).map((i) => ({
      code: str(i.code),
      message: str(i.message),
      nodes: strings(i.nodes),
      edges: strings(i.edges),
    })),
  }
}

// ---- heat ----

/**
 * Utilisation bands, as an interviewer reads them: comfortable, busy, past the 80 % headroom the
 * "sustains the peak" check asks for, and saturated (past 100 %: the excess fails).
 */
export type HeatBand = 'idle' | 'cool' | 'warm' | 'hot' | 'over' | 'failed'

export const HEADROOM = 0.8

export function heatBand(n: Pick<SimNode, 'utilisation' | 'failed' | 'capacity_rps' | 'offered_rps'>): HeatBand {
  if (n.failed) return 'failed'
  if (n.capacity_rps <= 0 || n.offered_rps <= 0) return 'idle'
  if (n.utilisation > 1) return 'over'
  if (n.utilisation > HEADROOM) return 'hot'
  if (n.utilisation > 0.5) return 'warm'
  return 'cool'
}

/** The legend, in order, with the colour each band is drawn in (CSS variables `--heat-<band>`). */
export const HEAT_LEGEND: { band: HeatBand; label: string }[] = [
  { band: 'cool', label: '≤ 50 %' },
  { band: 'warm', label: '50–80 %' },
  { band: 'hot', label: '80–100 %' },
  { band: 'over', label: '> 100 %' },
  { band: 'failed', label: 'failed' },
]

/**
 * A continuous colour for a utilisation: green at 0 through amber at 80 % to red at 100 % and beyond
 * (hue 140 → 35 → 0), so that adding an instance visibly cools a node even within one band.
 */
export function heatColor(utilisation: number): string {
  const u = Math.max(0, Number.isFinite(utilisation) ? utilisation : 0)
  const hue = u <= HEADROOM ? 140 - (105 * u) / HEADROOM : Math.max(0, 35 - (35 * (u - HEADROOM)) / (1 - HEADROOM))
  return `hsl(${Math.round(hue)} 75% 45%)`
}

/** Stroke width of an edge by its share of the busiest edge's traffic: 1.5 px to 7 px, square-root scaled. */
export function edgeWidth(rps: number, max: number): number {
  if (!(rps > 0) || !(max > 0)) return 1.5
  return Math.round((1.5 + 5.5 * Math.sqrt(Math.min(1, rps / max))) * 10) / 10
}

// ---- figures and sentences ----

/** Requests per second, short: 950, 1.9k, 12.5k, 3.2M. */
export function rps(x: number): string {
  if (x >= 1e9) return `${trim(x / 1e9)}B`
  if (x >= 1e6) return `${trim(x / 1e6)}M`
  if (x >= 1e3) return `${trim(x / 1e3)}k`
  return num(x)
}

/** A latency, short: 0.4ms, 5.3ms, 31ms (what fits on a node's badge). */
export function shortMs(x: number): string {
  return `${x >= 10 ? Math.round(x) : Math.round(x * 10) / 10}ms`
}

function trim(x: number): string {
  return x >= 100 ? String(Math.round(x)) : x.toFixed(1).replace(/\.0$/, '')
}

/** Thousands separated; two decimals at most below 100 (the server's sentences use the same). */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x)
  if (Math.abs(x) < 100) return String(Math.round(x * 100) / 100)
  return Math.round(x).toLocaleString('en-US')
}

export function pct(x: number): string {
  return `${num(x * 100)} %`
}

export function ms(x: number): string {
  return `${num(x)} ms`
}

export function usd(x: number): string {
  return `$${num(x)}`
}

export function loadLabel(load: LoadSpec): string {
  if (load === 'normal') return 'normal load'
  if (load === 'peak') return 'peak'
  return `${num(load)}× peak`
}

/** What the bottleneck call-out says: which node saturates first, at what load, and why. */
export interface Saturation {
  id: string
  label: string
  utilisation: number
  /** Requests/s entering at the clients when it reaches 100 %. */
  at_rps: number
  /** The same as a multiple of the problem's peak. */
  at_peak: number
  /** The arithmetic, one line each. */
  steps: string[]
}

/**
 * Flow is linear in the load for a given scenario (routing fractions depend on the design, not the
 * rate), so the busiest node is the one that saturates first, at `offered ÷ utilisation` at the
 * clients.
 */
export function saturation(r: SimulationResult): Saturation | null {
  const id = r.bottleneck
  const n = id ? r.nodes[id] : undefined
  if (!id || !n || !(n.utilisation > 0) || !(r.scenario.offered_rps > 0)) return null
  const perInstance = n.instances > 0 ? n.capacity_rps / n.instances : 0
  const share = n.offered_rps / r.scenario.offered_rps
  const atRps = r.scenario.offered_rps / n.utilisation
  const atPeak = r.scenario.peak_rps > 0 ? atRps / r.scenario.peak_rps : 0
  const label = n.label || id
  const steps = [
    `${label} is offered ${num(n.offered_rps)} rps of the ${num(r.scenario.offered_rps)} rps entering (${pct(share)} of the traffic reaches it)`,
    `capacity ${num(n.instances)} × ${num(perInstance)} = ${num(n.capacity_rps)} rps, so utilisation ${num(n.offered_rps)} ÷ ${num(n.capacity_rps)} = ${pct(n.utilisation)}`,
    `it reaches 100 % at ${num(r.scenario.offered_rps)} ÷ ${num(n.utilisation)} = ${num(atRps)} rps entering` +
      (r.scenario.peak_rps > 0 ? `, ${num(atPeak)}× the peak of ${num(r.scenario.peak_rps)} rps` : ''),
  ]
  if (n.utilisation > 1)
    steps.push(`past capacity the excess fails: 1 − 1/${num(n.utilisation)} = ${pct(1 - 1 / n.utilisation)} of its requests`)
  else if (n.utilisation > HEADROOM && perInstance > 0) {
    const need = Math.ceil(n.offered_rps / (HEADROOM * perInstance))
    steps.push(`to stay under ${pct(HEADROOM)}: ⌈${num(n.offered_rps)} ÷ (0.8 × ${num(perInstance)})⌉ = ${need} instances`)
  }
  return { id, label, utilisation: n.utilisation, at_rps: atRps, at_peak: atPeak, steps }
}
