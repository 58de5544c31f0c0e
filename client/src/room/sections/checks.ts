/**
 * The server's `section_checks` message (docs/PROTOCOL.md §2; issue 23, point 2) on the client:
 * parsing it, and which check belongs beside which section of the room's Sections tab.
 */
import {
  API_KEY,
  DATA_MODEL_KEY,
  ESTIMATES_KEY,
  FUNCTIONAL_KEY,
  NONFUNCTIONAL_KEY,
  PHASE_SECTIONS,
  type ApiOverride,
  type CheckStatus,
  type SectionCheck,
  type SectionChecks,
} from '../../report/sections'

export type SectionKey = typeof FUNCTIONAL_KEY | typeof NONFUNCTIONAL_KEY | typeof ESTIMATES_KEY | typeof API_KEY | typeof DATA_MODEL_KEY

/** The sections in the order the tab shows them (the interview's order). */
export const SECTION_KEYS: SectionKey[] = [FUNCTIONAL_KEY, NONFUNCTIONAL_KEY, ESTIMATES_KEY, API_KEY, DATA_MODEL_KEY]

/** Each section's heading (the tab, the interview bar's pointer to the phase's sections). */
export const SECTION_TITLES: Record<SectionKey, string> = {
  [FUNCTIONAL_KEY]: 'Functional requirements',
  [NONFUNCTIONAL_KEY]: 'Non-functional requirements',
  [ESTIMATES_KEY]: 'Estimates',
  [API_KEY]: 'API',
  [DATA_MODEL_KEY]: 'Data model',
}

/** Which of the server's checks is shown beside a section (the functional requirements have none of their own). */
export const CHECK_OF: Record<SectionKey, SectionCheck['id'] | null> = {
  [FUNCTIONAL_KEY]: null,
  [NONFUNCTIONAL_KEY]: 'non_functional',
  [ESTIMATES_KEY]: 'estimates',
  [API_KEY]: 'api_coverage',
  [DATA_MODEL_KEY]: 'data_model_keys',
}

const IDS: SectionCheck['id'][] = ['estimates', 'non_functional', 'api_coverage', 'data_model_keys']

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function status(v: unknown): CheckStatus {
  return v === 'pass' || v === 'fail' ? v : 'info'
}

/** Normalises a `section_checks` result from the server; null when it is not one. */
export function parseSectionChecks(v: unknown): SectionChecks | null {
  if (!isRecord(v) || !Array.isArray(v.checks)) return null
  const checks: SectionCheck[] = []
  for (const c of v.checks) {
    if (!isRecord(c) || !IDS.includes(c.id as SectionCheck['id'])) continue
    checks.push({
      id: c.id as SectionCheck['id'],
      title: String(c.title ?? ''),
      status: status(c.status),
      explanation: String(c.explanation ?? ''),
      items: (Array.isArray(c.items) ? c.items : []).filter(isRecord).map((i) => ({
        name: String(i.name ?? ''),
        status: status(i.status),
        explanation: String(i.explanation ?? ''),
        ...(parseOverride(i.override) ? { override: parseOverride(i.override)! } : {}),
      })),
    })
  }
  return { checks }
}

/** An item's `override` (the host's API verdict), or null when absent or malformed. */
export function parseOverride(v: unknown): ApiOverride | null {
  if (!isRecord(v) || typeof v.covered !== 'boolean') return null
  return { covered: v.covered, by: String(v.by ?? 'host'), at: typeof v.at === 'number' ? v.at : 0 }
}

export function checkFor(checks: SectionChecks | null, key: SectionKey): SectionCheck | null {
  const id = CHECK_OF[key]
  return (id && checks?.checks.find((c) => c.id === id)) || null
}

/**
 * The check item of one entry (an estimate, an entity), found by its name as the server reports
 * it (trimmed; `(unnamed)` for an estimate without one). The checks follow edits after a short
 * delay, so an entry just renamed may have none for a moment.
 */
export function itemFor(check: SectionCheck | null, name: string, unnamed = '(unnamed)') {
  const n = name.trim() || unnamed
  return check?.items.find((i) => i.name === n) ?? null
}

/** The sections an interview phase points at (`PHASE_SECTIONS`); none for an unknown phase or none. */
export function sectionsOfPhase(phase: string | null | undefined): SectionKey[] {
  if (!phase) return []
  return (PHASE_SECTIONS[phase] ?? []).filter((k): k is SectionKey => (SECTION_KEYS as string[]).includes(k))
}

export const STATUS_ICON: Record<CheckStatus, string> = { pass: '✓', fail: '✗', info: 'i' }
