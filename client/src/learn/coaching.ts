/**
 * "Why not green" coaching (issue 21 item 2): which of a problem's hints helps with a failing tier
 * rule. A hint helps when it names the rule's component (its catalog name, an alias or the type id)
 * or the rule's tier ("**Tier 1**: ..."); one naming both is best. Returns null when none does, so
 * the panel links only where a hint really speaks to the rule.
 */
import type { TierRule } from '../api'
import type { Catalog } from '../catalog'

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function mentions(text: string, phrase: string): boolean {
  const p = phrase.trim()
  if (p.length < 2) return false
  // singular or plural, as a whole phrase ("App Server", "app servers"), case-insensitive
  return new RegExp(`(^|[^a-z0-9])${escape(p).replace(/[_ ]/g, '[ _-]?')}(e?s)?($|[^a-z0-9])`, 'i').test(text)
}

export function hintFor(rule: Pick<TierRule, 'type'>, tierId: string, hints: string[], catalog: Catalog | null): number | null {
  const def = catalog?.get(rule.type)
  const names = [rule.type, def?.name ?? '', ...(def?.aliases ?? [])].filter(Boolean)
  const tierNo = /\d+/.exec(tierId)?.[0]
  let best: { index: number; score: number } | null = null
  hints.forEach((h, index) => {
    let score = 0
    if (names.some((n) => mentions(h, n))) score += 2
    if (tierNo !== undefined && new RegExp(`\\btier\\s*${tierNo}\\b`, 'i').test(h)) score += 1
    if (score > 0 && (!best || score > best.score)) best = { index, score }
  })
  return (best as { index: number } | null)?.index ?? null
}
