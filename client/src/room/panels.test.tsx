// @vitest-environment jsdom
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { act } from 'react'
import type { Root } from 'react-dom/client'
import * as Y from 'yjs'
import { Catalog } from '../catalog'
import { addNode, getNode } from '../schema'
import { VALIDATION } from '../testing/fixtures'
import { setupHost } from '../testing/render'
import { Inspector } from './Inspector'
import { TierPanel, TierStrip } from './TierPanel'
import { NO_MARKS, ruleMarks } from './heat'

const dom = setupHost()
let host: HTMLDivElement
let root: Root
beforeEach(() => {
  host = dom.host()
  root = dom.root()
})

// The server's own answer (npm run fixtures): T0 reached, T1 not, an unknown type, an isolated cache.
const result = VALIDATION

describe('TierPanel', () => {
  it('links each failing rule to the hint that helps, where one does (issue 21)', () => {
    const onHint = vi.fn()
    const hintFor = (tier: number, rule: number) => (tier === 1 && rule === 0 ? 2 : null)
    act(() => root.render(<TierPanel result={result} connected active={null} onHighlight={() => {}} hintFor={hintFor} onHint={onHint} />))
    const links = [...host.querySelectorAll<HTMLButtonElement>('.hint-link')]
    const failingT1First = !result.tiers[1].rules[0].passed
    expect(links.map((l) => l.textContent)).toEqual(failingT1First ? ['Hint 3 helps with this'] : [])
    links[0]?.click()
    expect(onHint.mock.calls).toEqual(failingT1First ? [[2]] : [])
    expect(failingT1First).toBe(true)
  })

  it('shows tiers, rules with explanations, issues and advisories apart', () => {
    act(() => root.render(<TierPanel result={result} connected active={null} onHighlight={() => {}} />))
    expect(result.reached).toBe(1)
    expect(host.textContent).toContain(`1 of ${result.tiers.length} tiers reached`)
    expect(host.querySelector('[data-testid="tier-T0"]')!.getAttribute('data-reached')).toBe('true')
    expect(host.querySelector('[data-testid="tier-T1"]')!.getAttribute('data-reached')).toBe('false')
    expect(host.textContent).toContain('needs ≥ 2 app instances; found 1')
    expect(host.querySelector('.findings.issue')!.textContent).toContain("unknown type 'foo'")
    expect(host.querySelector('.findings.advice')!.textContent).toContain("'Cache' has no edges")
    const failed = result.tiers.flatMap((t) => t.rules).filter((r) => !r.passed)
    expect(failed.length).toBeGreaterThan(0)
    expect(host.querySelectorAll('[aria-label="failed"]').length).toBe(failed.length)
  })

  it('clicking a rule asks to highlight its nodes, clicking again clears', () => {
    const onHighlight = vi.fn()
    const index = result.tiers.find((t) => t.id === 'T1')!.rules.findIndex((r) => r.text.startsWith('Minimum 2'))
    expect(index).toBeGreaterThanOrEqual(0)
    act(() => root.render(<TierPanel result={result} connected active={null} onHighlight={onHighlight} />))
    const rule = [...host.querySelectorAll('button.rule')].find((b) => b.textContent!.includes('Minimum 2'))!
    act(() => (rule as HTMLButtonElement).click())
    expect(onHighlight).toHaveBeenLastCalledWith(`T1/${index}`, ['n1'])
    act(() => root.render(<TierPanel result={result} connected active={`T1/${index}`} onHighlight={onHighlight} />))
    act(() => (rule as HTMLButtonElement).click())
    expect(onHighlight).toHaveBeenLastCalledWith(null, [])
  })

  it('labels the rules that judge the whole design with their kind (issue 20)', () => {
    const last = result.tiers[result.tiers.length - 1]
    const kinds = last.rules.map((r) => r.kind)
    expect(kinds).toContain('path')
    act(() => root.render(<TierPanel result={result} connected active={null} onHighlight={() => {}} />))
    const tier = host.querySelector(`[data-testid="tier-${last.id}"]`)!
    const labels = [...tier.querySelectorAll('.rule-kind')].map((l) => l.textContent)
    expect(labels).toEqual(kinds.filter((k) => k === 'path' || k === 'capacity').map((k) => (k === 'path' ? 'path' : 'capacity at peak')))
    // the partial design has no load balancer: the explanation says what breaks the path
    const path = last.rules.find((r) => r.kind === 'path')!
    expect(path.passed).toBe(false)
    expect(tier.textContent).toContain(path.explanation)
  })

  it('says it is waiting when there is no result yet', () => {
    act(() => root.render(<TierPanel result={null} connected={false} active={null} onHighlight={() => {}} />))
    expect(host.textContent).toContain('once connected')
  })
})

describe('TierStrip', () => {
  it('shows each tier’s mark and the count, marks stale results, and opens the Tiers tab (issue 24, item 4)', () => {
    const onOpen = vi.fn()
    act(() => root.render(<TierStrip result={result} stale={false} onOpen={onOpen} />))
    const strip = host.querySelector<HTMLButtonElement>('[data-testid="tier-strip"]')!
    expect(strip.querySelector('.tier-strip-count')!.textContent).toBe(`${result.reached}/${result.tiers.length}`)
    const marks = [...strip.querySelectorAll('.tier-strip-tier')]
    expect(marks.map((m) => m.getAttribute('data-reached'))).toEqual(result.tiers.map((t) => String(t.reached)))
    expect(marks.map((m) => m.textContent)).toEqual(result.tiers.map((t) => `${t.reached ? '✓' : '✗'} ${t.id}`))
    expect(strip.classList.contains('stale')).toBe(false)
    act(() => strip.click())
    expect(onOpen).toHaveBeenCalledTimes(1)
    act(() => root.render(<TierStrip result={result} stale onOpen={onOpen} />))
    const stale = host.querySelector('[data-testid="tier-strip"]')!
    expect(stale.classList.contains('stale')).toBe(true)
    expect(stale.textContent).toContain('offline')
  })
})

describe('ruleMarks', () => {
  it('marks each node a failing rule names with its earliest tier and every such rule (issue 24, item 4)', () => {
    const marks = ruleMarks(result)
    const expected = new Map<string, { tier: string; rules: string[] }>()
    for (const t of result.tiers)
      for (const r of t.rules)
        if (!r.passed)
          for (const id of r.nodes) {
            const m = expected.get(id) ?? { tier: t.id, rules: [] }
            m.rules.push(`${t.id}: ${r.text}`)
            expected.set(id, m)
          }
    expect(marks).toEqual(expected)
    // the fixture's T1 "Minimum 2 app instances" fails on n1, and no passing rule marks anything
    expect(marks.get('n1')?.rules.some((r) => r.startsWith('T1: Minimum 2'))).toBe(true)
    const passingOnly = result.tiers.flatMap((t) => t.rules.filter((r) => r.passed).flatMap((r) => r.nodes))
    expect(passingOnly.filter((id) => !expected.has(id)).every((id) => !marks.has(id))).toBe(true)
    expect(ruleMarks(null)).toBe(NO_MARKS)
  })
})

const catalog = new Catalog([
  {
    type: 'cache',
    name: 'Cache',
    kind: 'cache',
    family: 'cache',
    icon: 'bolt',
    aliases: [],
    params: [
      { name: 'instances', type: 'integer', default: 1, min: 1, max: 100000, description: 'fleet size' },
      { name: 'hit_rate', type: 'number', default: 0.8, min: 0, max: 1, description: 'share of reads served' },
    ],
  },
])

function type(input: HTMLInputElement, value: string) {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!
  act(() => {
    setter.call(input, value)
    input.dispatchEvent(new Event('input', { bubbles: true }))
  })
}

describe('Inspector', () => {
  it('edits label and parameters; invalid input shows an error and is not stored', () => {
    const doc = new Y.Doc()
    const id = addNode(doc, { type: 'cache', label: 'Redis' })
    act(() => root.render(<Inspector doc={doc} catalog={catalog} nodes={[id]} edges={[]} readOnly={false} />))
    expect(host.textContent).toContain('range 0 – 1')
    const hit = host.querySelector<HTMLInputElement>('#param-hit_rate')!
    type(hit, '0.97')
    expect(getNode(doc, id)!.params.hit_rate).toBe(0.97)
    type(hit, '1.5')
    expect(host.textContent).toContain('hit_rate must be at most 1')
    expect(hit.getAttribute('aria-invalid')).toBe('true')
    expect(getNode(doc, id)!.params.hit_rate).toBe(0.97)
    const label = host.querySelector<HTMLInputElement>('input[type="text"]')!
    type(label, 'Sessions')
    expect(getNode(doc, id)!.label).toBe('Sessions')
  })

  it('follows remote changes of the node', () => {
    const doc = new Y.Doc()
    const id = addNode(doc, { type: 'cache', params: { instances: 2 } })
    act(() => root.render(<Inspector doc={doc} catalog={catalog} nodes={[id]} edges={[]} readOnly />))
    const inst = host.querySelector<HTMLInputElement>('#param-instances')!
    expect(inst.value).toBe('2')
    expect(inst.readOnly).toBe(true)
    const remote = new Y.Doc()
    Y.applyUpdate(remote, Y.encodeStateAsUpdate(doc))
    ;(remote.getMap('nodes').get(id) as Y.Map<Y.Map<number>>).get('params')!.set('instances', 6)
    act(() => Y.applyUpdate(doc, Y.encodeStateAsUpdate(remote)))
    expect(host.querySelector<HTMLInputElement>('#param-instances')!.value).toBe('6')
    // no editing controls for a viewer
    expect([...host.querySelectorAll('button')].map((b) => b.textContent)).not.toContain('Delete')
  })
})
