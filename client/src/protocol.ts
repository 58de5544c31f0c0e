/**
 * The tierboard side of the WebSocket protocol (docs/PROTOCOL.md §2, §7): the custom message type 100
 * (`session`, `interview`, `host`, `validation`, `simulation`, `saved`, `error`), the "saved" bookkeeping, close codes and the
 * validation result JSON (§4). The y-websocket sync and awareness messages are the stock provider's.
 */
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import type { WebsocketProvider } from 'y-websocket'
import { parseSimulation, type SimulationResult } from './simulation'
import { parseInterviewState, type InterviewState, type Mode, type Role } from './interview'
import { parseSectionChecks } from './room/sections/checks'
import type { SectionChecks } from './report/sections'

export type { Mode, Role }

export const MESSAGE_TIERBOARD = 100

export function isRole(v: unknown): v is Role {
  return v === 'host' || v === 'edit' || v === 'view'
}

// ---- validation result (§4) ----

export type RuleKind = 'include' | 'min_count' | 'connection_from' | 'param_range' | 'path' | 'redundant' | 'capacity' | 'latency'

/**
 * What the rule kinds that judge the design as a whole check (PROTOCOL §5), as a short label shown next
 * to the rule: the component kinds' own texts say what they check.
 */
export const RULE_KIND_LABELS: Partial<Record<string, string>> = {
  path: 'path',
  redundant: 'redundancy',
  capacity: 'capacity at peak',
  latency: 'latency at peak',
}

export interface RuleResult {
  text: string
  kind: RuleKind | string
  passed: boolean
  explanation: string
  nodes: string[]
}

export interface TierResult {
  id: string
  title: string
  passed: boolean
  reached: boolean
  source: 'seed' | 'authored' | string
  rules: RuleResult[]
}

export interface Finding {
  code: string
  message: string
  nodes: string[]
  edges: string[]
}

export interface ValidationResult {
  problem: string
  reached: number
  tiers: TierResult[]
  design_issues: Finding[]
  advisories: Finding[]
}

// ---- type-100 messages ----

export type ServerMessage =
  | { type: 'session'; room: string; role: Role; mode: Mode; problem: string }
  | { type: 'interview'; state: InterviewState; now: number }
  | { type: 'host'; state: InterviewState; hints: string[]; notes: string; now: number }
  | { type: 'validation'; result: ValidationResult }
  | { type: 'simulation'; result: SimulationResult }
  | { type: 'section_checks'; result: SectionChecks }
  | { type: 'saved'; sv: string }
  | { type: 'error'; code: string; message: string }

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

function findings(v: unknown): Finding[] {
  if (!Array.isArray(v)) return []
  return v.filter(isRecord).map((f) => ({
    code: String(f.code ?? ''),
    message: String(f.message ?? ''),
    nodes: strings(f.nodes),
    edges: strings(f.edges),
  }))
}

/** Normalises a validation result from the server; null when it is not one. */
export function parseValidation(v: unknown): ValidationResult | null {
  if (!isRecord(v) || !Array.isArray(v.tiers)) return null
  const tiers: TierResult[] = v.tiers.filter(isRecord).map((t) => ({
    id: String(t.id ?? ''),
    title: String(t.title ?? ''),
    passed: t.passed === true,
    reached: t.reached === true,
    source: String(t.source ?? ''),
    rules: (Array.isArray(t.rules) ? t.rules : []).filter(isRecord).map((r) => ({
      text: String(r.text ?? ''),
      kind: String(r.kind ?? ''),
      passed: r.passed === true,
      explanation: String(r.explanation ?? ''),
      nodes: strings(r.nodes),
    })),
  }))
  return {
    problem: String(v.problem ?? ''),
    reached: typeof v.reached === 'number' ? v.reached : tiers.filter((t) => t.reached).length,
    tiers,
    design_issues: findings(v.design_issues),
    advisories: findings(v.advisories),
  }
}

/** Decodes the JSON of a type-100 message; null (and the caller logs) for anything unexpected. */
export function parseServerMessage(text: string): ServerMessage | null {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return null
  }
  if (!isRecord(v)) return null
  switch (v.type) {
    case 'session':
      if (!isRole(v.role)) return null
      return {
        type: 'session',
        room: String(v.room ?? ''),
        role: v.role,
        mode: v.mode === 'interview' ? 'interview' : 'practice',
        problem: String(v.problem ?? ''),
      }
    case 'interview':
    case 'host': {
      const state = parseInterviewState(v.state)
      if (!state) return null
      const now = typeof v.now === 'number' ? v.now : Date.now()
      if (v.type === 'interview') return { type: 'interview', state, now }
      return { type: 'host', state, hints: strings(v.hints), notes: typeof v.notes === 'string' ? v.notes : '', now }
    }
    case 'validation': {
      const result = parseValidation(v.result)
      return result ? { type: 'validation', result } : null
    }
    case 'simulation': {
      const result = parseSimulation(v.result)
      return result ? { type: 'simulation', result } : null
    }
    case 'section_checks': {
      const result = parseSectionChecks(v.result)
      return result ? { type: 'section_checks', result } : null
    }
    case 'saved':
      return typeof v.sv === 'string' ? { type: 'saved', sv: v.sv } : null
    case 'error':
      return { type: 'error', code: String(v.code ?? ''), message: String(v.message ?? '') }
    default:
      return null
  }
}

/** Registers the type-100 handler on a stock provider; returns a function that removes it. */
export function registerTierboardHandler(provider: WebsocketProvider, onMessage: (m: ServerMessage) => void): () => void {
  provider.messageHandlers[MESSAGE_TIERBOARD] = (_encoder, decoder) => {
    const text = decoding.readVarString(decoder)
    const m = parseServerMessage(text)
    if (m) onMessage(m)
    else console.warn('tierboard: ignored an unexpected server message', text.slice(0, 200))
  }
  return () => {
    delete provider.messageHandlers[MESSAGE_TIERBOARD]
  }
}

// ---- saved state ----

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin)
}

/**
 * Whether the server has durably stored every edit this document made itself: for its own
 * `clientID`, the clock in the stored state vector is at least the local one. A document that made
 * no edits is trivially saved.
 */
export function isSaved(storedSv: Map<number, number>, localSv: Map<number, number>, clientID: number): boolean {
  const mine = localSv.get(clientID) ?? 0
  return (storedSv.get(clientID) ?? 0) >= mine
}

/** Tracks the "saved" indicator for one document from the server's `saved` messages. */
export class SavedTracker {
  private stored: Map<number, number> | null = null
  constructor(private readonly doc: Y.Doc) {}

  /** Records a `saved` message; returns the new state, or null when `sv` was not a state vector. */
  onSaved(sv: string): boolean | null {
    try {
      this.stored = Y.decodeStateVector(base64ToBytes(sv))
    } catch {
      return null
    }
    return this.saved()
  }

  /** True when every own edit is stored; false when some are not (or the server never said). */
  saved(): boolean {
    const local = Y.decodeStateVector(Y.encodeStateVector(this.doc))
    if (!local.has(this.doc.clientID)) return true
    return this.stored !== null && isSaved(this.stored, local, this.doc.clientID)
  }
}

// ---- connection ----

export const CLOSE_CODES: Record<number, string> = {
  1000: 'closed',
  1001: 'the server is restarting',
  1002: 'the connection broke the WebSocket protocol; reconnecting',
  1011: 'server error',
  1013: 'the room is unavailable; retrying',
  4000: 'connection too slow; resyncing',
  4002: 'nothing heard from this browser for 30 s; reconnecting',
  4400: 'the server rejected a malformed message',
  4401: 'this link is not valid: its token is wrong, or the room’s host revoked it (ask the host for the current link)',
  4404: 'no such room',
  4413: 'a change was too large for the server',
  4414: 'the board reached its size limit; this change was not saved',
  4415: 'too many changes are waiting for missing parts; reload the board',
  4429: 'the server refused a message carrying too many parts',
}

/** Whether the stock provider gives up after this close code (4400–4499). */
export function isTerminalClose(code: number): boolean {
  return code >= 4400 && code < 4500
}

export function describeClose(code: number): string {
  return CLOSE_CODES[code] ?? `connection closed (${code})`
}

/** `ws(s)://host/ws` for the page's own origin: what WebsocketProvider takes as `serverUrl`. */
export function wsServerUrl(loc: Pick<Location, 'protocol' | 'host'>): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`
}
