import { describe, expect, it } from 'vitest'
import fixtures from './testing/fixtures/simulation.json'
import { parseServerMessage } from './protocol'
import { edgeWidth, heatBand, heatColor, isPlainPeak, parseSimulation, PEAK, rps, saturation } from './simulation'
import { canvasHeat } from './room/heat'
import { redecorateEdges, toFlowEdge } from './flow'

// Real answers of `POST /api/simulate` (scripts/fixtures.mjs): users → lb → two apps → one database,
// at the 10,000 rps peak of database-query-cache, and at 3× peak with one app failed.
const peak = parseSimulation(fixtures.peak)!
const spike = parseSimulation(fixtures.spike_failed)!

describe('parseSimulation', () => {
  it('reads the server’s result', () => {
    expect(peak.bottleneck).toBe('db')
    expect(peak.scenario.offered_rps).toBe(10_000)
    expect(peak.nodes.a1.utilisation).toBe(1)
    expect(peak.nodes.db.utilisation).toBe(2)
    expect(peak.edges.e1.rps).toBe(10_000)
    expect(peak.checks.map((c) => c.id)).toContain('sustains_peak')
    expect(spike.scenario.load).toBe(3)
    expect(spike.scenario.fail).toEqual(['a1'])
    expect(spike.nodes.a1.failed).toBe(true)
  })

  it('refuses what is not a result and never lets a bad figure through', () => {
    expect(parseSimulation(null)).toBeNull()
    expect(parseSimulation({ nodes: {} })).toBeNull()
    const bad = parseSimulation({
      scenario: { offered_rps: 'x', load: {} },
      nodes: { a: { utilisation: -1, offered_rps: null, error_rate: 7 } },
      end_to_end: { p99_ms: Number.NaN },
    })!
    expect(bad.scenario.offered_rps).toBe(0)
    expect(bad.scenario.load).toBe('peak')
    expect(bad.nodes.a.utilisation).toBe(0)
    expect(bad.nodes.a.error_rate).toBe(1)
    expect(bad.end_to_end.p99_ms).toBe(0)
    expect(bad.checks).toEqual([])
  })

  it('is the `simulation` type-100 message', () => {
    const m = parseServerMessage(JSON.stringify({ type: 'simulation', result: fixtures.peak }))
    expect(m?.type).toBe('simulation')
    expect(parseServerMessage(JSON.stringify({ type: 'simulation', result: 3 }))).toBeNull()
  })
})

describe('heat', () => {
  it('bands utilisation as an interviewer reads it', () => {
    const n = { failed: false, capacity_rps: 100, offered_rps: 1 }
    expect(heatBand({ ...n, utilisation: 0.3 })).toBe('cool')
    expect(heatBand({ ...n, utilisation: 0.7 })).toBe('warm')
    expect(heatBand({ ...n, utilisation: 0.9 })).toBe('hot')
    expect(heatBand({ ...n, utilisation: 1.5 })).toBe('over')
    expect(heatBand({ ...n, utilisation: 1.5, failed: true })).toBe('failed')
    expect(heatBand({ ...n, utilisation: 0, capacity_rps: 0 })).toBe('idle')
  })

  it('shifts the colour from green to red as utilisation grows', () => {
    const hue = (u: number) => Number(/hsl\((\d+)/.exec(heatColor(u))![1])
    expect(hue(0)).toBe(140)
    expect(hue(0.8)).toBe(35)
    expect(hue(1)).toBe(0)
    expect(hue(3)).toBe(0)
    expect(hue(0.4)).toBeGreaterThan(hue(0.6))
  })

  it('draws the canvas from a result: badges, the bottleneck, edge widths', () => {
    const h = canvasHeat(peak)
    expect(h.nodes.get('db')).toMatchObject({ band: 'over', bottleneck: true })
    expect(h.nodes.get('db')!.badge).toMatch(/^200% · 10k rps · [\d.]+ms$/)
    expect(h.nodes.get('a1')).toMatchObject({ band: 'hot', bottleneck: false })
    expect(h.nodes.get('users')!.badge).toBe('sends 10k rps')
    expect(h.nodes.get('db')!.title).toContain('capacity 1 × 5,000 = 5,000 rps')
    expect(h.edges.get('e1')!.width).toBe(7)
    expect(h.edges.get('e2')!.width).toBeLessThan(7)
    expect(canvasHeat(spike).nodes.get('a1')).toMatchObject({ band: 'failed', badge: 'failed' })
    expect(canvasHeat(spike).edges.get('e2')!.width).toBe(1.5)
  })

  it('redecorates only the edges whose flow changed', () => {
    const edges = [toFlowEdge({ id: 'e1', from: 'users', to: 'lb' }), toFlowEdge({ id: 'e2', from: 'lb', to: 'a1' })]
    const a = canvasHeat(peak)
    const drawn = redecorateEdges(edges, (id) => a.edges.get(id))
    expect(drawn[0].style).toMatchObject({ strokeWidth: 7 })
    expect(redecorateEdges(drawn, (id) => a.edges.get(id))).toBe(drawn)
    const b = new Map(a.edges).set('e2', { width: 2, rps: 1, offPath: false })
    const again = redecorateEdges(drawn, (id) => b.get(id))
    expect(again[0]).toBe(drawn[0])
    expect(again[1]).not.toBe(drawn[1])
    expect(redecorateEdges(again, () => undefined)[0].style).toBeUndefined()
  })

  it('scales edge widths by the square root of their share', () => {
    expect(edgeWidth(0, 100)).toBe(1.5)
    expect(edgeWidth(100, 100)).toBe(7)
    expect(edgeWidth(25, 100)).toBe(4.3)
  })
})

describe('the bottleneck call-out', () => {
  it('names the node that saturates first, with the arithmetic', () => {
    const s = saturation(peak)!
    expect(s.id).toBe('db')
    expect(s.at_rps).toBe(5_000)
    expect(s.at_peak).toBe(0.5)
    expect(s.steps.join('\n')).toContain('capacity 1 × 5,000 = 5,000 rps, so utilisation 10,000 ÷ 5,000 = 200 %')
    expect(s.steps.join('\n')).toContain('it reaches 100 % at 10,000 ÷ 2 = 5,000 rps entering, 0.5× the peak of 10,000 rps')
    expect(s.steps.join('\n')).toContain('1 − 1/2 = 50 %')
  })

  it('advises the instances to stay under 80 % when hot', () => {
    const hot = structuredClone(peak)
    hot.nodes.db = { ...hot.nodes.db, instances: 2, capacity_rps: 11_000, utilisation: 10_000 / 11_000 }
    expect(saturation(hot)!.steps.at(-1)).toBe('to stay under 80 %: ⌈10,000 ÷ (0.8 × 5,500)⌉ = 3 instances')
  })

  it('has nothing to say without traffic', () => {
    expect(saturation({ ...peak, bottleneck: null })).toBeNull()
  })
})

describe('figures', () => {
  it('shortens request rates', () => {
    expect(rps(950)).toBe('950')
    expect(rps(1_900)).toBe('1.9k')
    expect(rps(12_500)).toBe('12.5k')
    expect(rps(3_200_000)).toBe('3.2M')
  })

  it('knows the plain peak scenario', () => {
    expect(isPlainPeak(PEAK)).toBe(true)
    expect(isPlainPeak({ ...PEAK, load: 2 })).toBe(false)
    expect(isPlainPeak({ ...PEAK, fail: ['x'] })).toBe(false)
  })
})
