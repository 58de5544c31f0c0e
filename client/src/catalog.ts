/**
 * Helpers over the component catalog (`GET /api/components`): lookup with aliases, parameter
 * checks for the inspector, and the short parameter summary a node shows on the canvas.
 */
import type { ComponentDef, ParamDef } from './api'
import { NOTE_TYPE, type ParamValue, type Params } from './schema'

export class Catalog {
  private readonly byType = new Map<string, ComponentDef>()

  constructor(readonly components: ComponentDef[]) {
    for (const c of components) this.byType.set(c.type, c)
    // An alias names the same component: look it up under the alias too, unless it has its own entry.
    for (const c of components) {
      for (const a of c.aliases ?? []) if (!this.byType.has(a)) this.byType.set(a, c)
    }
  }

  get(type: string): ComponentDef | undefined {
    return this.byType.get(type)
  }

  /** A display name for a type, falling back to the type id itself. */
  name(type: string): string {
    if (type === NOTE_TYPE) return 'Note'
    return this.get(type)?.name ?? type
  }
}

export const EMPTY_CATALOG = new Catalog([])

/** Checks one parameter value against its definition; returns a sentence, or null when it is fine. */
export function paramError(def: ParamDef, value: ParamValue | undefined): string | null {
  if (value === undefined) return null
  switch (def.type) {
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number'
      if (def.type === 'integer' && !Number.isInteger(value)) return 'must be a whole number'
      if (def.min != null && value < def.min) return `must be at least ${def.min}`
      if (def.max != null && value > def.max) return `must be at most ${def.max}`
      return null
    }
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false'
    case 'string':
      return typeof value === 'string' ? null : 'must be text'
    default:
      return null
  }
}

/**
 * Parses what the user typed for a parameter. Returns the value to store, `undefined` to clear it,
 * or an error sentence (the input is kept on screen and not stored).
 */
export function parseParamInput(def: ParamDef, raw: string | boolean): { value: ParamValue | undefined } | { error: string } {
  if (def.type === 'boolean') return { value: Boolean(raw) }
  const text = String(raw).trim()
  if (text === '') return { value: undefined }
  if (def.type === 'integer' || def.type === 'number') {
    const n = Number(text)
    if (!Number.isFinite(n)) return { error: 'must be a number' }
    const err = paramError(def, n)
    return err ? { error: err } : { value: n }
  }
  return { value: text }
}

/** "0 – 1", "≥ 1", "≤ 100" or "" for a parameter's range. */
export function rangeText(def: ParamDef): string {
  const lo = def.min ?? null
  const hi = def.max ?? null
  if (lo !== null && hi !== null) return `${lo} – ${hi}`
  if (lo !== null) return `≥ ${lo}`
  if (hi !== null) return `≤ ${hi}`
  return ''
}

function formatValue(v: ParamValue, unit?: string | null): string {
  let s: string
  if (typeof v === 'number') {
    s = Math.abs(v) >= 10000 ? Intl.NumberFormat('en', { notation: 'compact' }).format(v) : String(v)
  } else s = String(v)
  return unit ? `${s} ${unit}` : s
}

/**
 * Up to `max` parameters worth showing on a node: the ones set to something other than their
 * default, in catalog order (`instances` is shown apart as "× N").
 */
export function keyParams(def: ComponentDef | undefined, params: Params, max = 2): string[] {
  const out: string[] = []
  const seen = new Set<string>(['instances'])
  for (const p of def?.params ?? []) {
    if (out.length >= max) break
    seen.add(p.name)
    const v = params[p.name]
    if (p.name === 'instances' || v === undefined || v === p.default) continue
    out.push(`${p.name} ${formatValue(v, p.unit)}`)
  }
  for (const [k, v] of Object.entries(params)) {
    if (out.length >= max) break
    if (!seen.has(k)) out.push(`${k} ${formatValue(v)}`)
  }
  return out
}
