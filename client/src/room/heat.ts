/**
 * From a simulation result to what the canvas draws: each node's heat (colour by utilisation, a
 * badge with offered rps, utilisation and latency, a tooltip with the arithmetic) and each edge's
 * width by the traffic it carries. Pure: the canvas keeps the maps and asks them per id.
 */
import type { EdgeDecor, NodeHeat, RuleMark } from '../flow'
import type { ValidationResult } from '../protocol'
import { edgeWidth, heatBand, heatColor, ms, num, pct, rps, shortMs, type SimulationResult } from '../simulation'

export interface CanvasHeat {
  nodes: Map<string, NodeHeat>
  edges: Map<string, EdgeDecor>
}

export const NO_HEAT: CanvasHeat = { nodes: new Map(), edges: new Map() }
export const NO_MARKS: Map<string, RuleMark> = new Map()

export function canvasHeat(r: SimulationResult | null): CanvasHeat {
  if (!r) return NO_HEAT
  const nodes = new Map<string, NodeHeat>()
  for (const [id, n] of Object.entries(r.nodes)) {
    const band = heatBand(n)
    const sized = n.capacity_rps > 0
    let badge: string
    if (n.failed) badge = 'failed'
    else if (n.role === 'client') badge = `sends ${rps(n.offered_rps)} rps`
    else if (!sized) badge = n.offered_rps > 0 ? `${rps(n.offered_rps)} rps · not sized` : 'no traffic'
    // Compact (no space before the units): it has to fit a node's width.
    else badge = `${Math.round(n.utilisation * 100)}% · ${rps(n.offered_rps)} rps · ${shortMs(n.latency_ms)}`
    const lines = [
      `${n.label || id}${n.failed ? ' (failed in this scenario)' : ''}`,
      `offered ${num(n.offered_rps)} rps (${num(n.read_rps)} reads, ${num(n.write_rps)} writes)`,
    ]
    if (sized) {
      lines.push(`capacity ${num(n.instances)} × ${num(n.capacity_rps / Math.max(1, n.instances))} = ${num(n.capacity_rps)} rps`)
      lines.push(`utilisation ${pct(n.utilisation)}, latency ${ms(n.latency_ms)} (p99 ${ms(n.p99_ms)})`)
    }
    if (n.error_rate > 0) lines.push(`error rate ${pct(n.error_rate)}`)
    if (n.backlog_rps > 0) lines.push(`backlog grows by ${num(n.backlog_rps)} per second`)
    if (n.monthly_usd > 0) lines.push(`$${num(n.monthly_usd)} a month`)
    nodes.set(id, {
      band,
      color: band === 'failed' ? 'var(--heat-failed)' : band === 'idle' ? 'var(--border)' : heatColor(n.utilisation),
      utilisation: n.utilisation,
      badge,
      title: lines.join('\n'),
      bottleneck: r.bottleneck === id,
    })
  }
  const edges = new Map<string, EdgeDecor>()
  const max = Math.max(0, ...Object.values(r.edges).map((e) => e.rps))
  for (const [id, e] of Object.entries(r.edges)) {
    edges.set(id, { width: edgeWidth(e.rps, max), rps: Math.round(e.rps * 100) / 100, offPath: e.off_path })
  }
  return { nodes, edges }
}

/**
 * The nodes that failing tier rules name (issue 24, item 4): each gets a mark with the earliest tier
 * whose rule it fails and the texts of all such rules, so that the canvas shows where the design
 * falls short without the Tiers tab open. Rules of any tier count, reached or not.
 */
export function ruleMarks(r: ValidationResult | null): Map<string, RuleMark> {
  if (!r) return NO_MARKS
  const marks = new Map<string, RuleMark>()
  for (const t of r.tiers) {
    for (const rule of t.rules) {
      if (rule.passed) continue
      for (const id of rule.nodes) {
        const m = marks.get(id)
        if (m) m.rules.push(`${t.id}: ${rule.text}`)
        else marks.set(id, { tier: t.id, rules: [`${t.id}: ${rule.text}`] })
      }
    }
  }
  return marks
}
