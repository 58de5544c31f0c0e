// @vitest-environment jsdom
// Learning mode's pieces (issue 21): Markdown without HTML, checkpoint checking, progress, coaching,
// and the room's shared hints in the Yjs document.
import { beforeEach, describe, expect, it } from 'vitest'
import { act } from 'react'
import * as Y from 'yjs'
import { Catalog } from '../catalog'
import { revealNextHint, revealedHints, root as docRoot } from '../schema'
import { PROBLEMS } from '../testing/fixtures'
import { setupHost } from '../testing/render'
import { check, parseNumber, toleranceOf } from './checkpoint'
import { hintFor } from './coaching'
import { designDiff } from './diff'
import { estimateDrills } from './estimates'
import { Markdown } from './Markdown'
import { TiersGate, TIERS_SHOWN_KEY } from './TiersGate'
import { exportProgress, importProgress, loadProgress, recordProgress, statusOf, STORAGE_KEY } from './progress'
import { formatValue, unitOf } from './units'

/** Waits (in act, so React's updates land) until `ready()` holds; fails after 2 s. */
async function waitUntil(ready: () => boolean) {
  for (let i = 0; i < 200 && !ready(); i++) {
    await act(() => new Promise((r) => setTimeout(r, 10)))
  }
  expect(ready()).toBe(true)
}

describe('Markdown', () => {
  const dom = setupHost()

  it('renders headings, lists, tables and code blocks, and keeps diagrams monospaced', () => {
    const text = '### Users Table\n- a\n- b\n\n| k | v |\n|---|---|\n| x | 1 |\n\n```\n┌──┐\n│ab│\n└──┘\n```'
    const host = dom.host()
    act(() => dom.root().render(<Markdown text={text} />))
    expect(host.querySelector('h4')!.textContent).toBe('Users Table')
    expect(host.querySelectorAll('li')).toHaveLength(2)
    expect(host.querySelector('table td')!.textContent).toBe('x')
    expect(host.querySelector('pre code')!.textContent).toBe('┌──┐\n│ab│\n└──┘\n')
  })

  it('highlights a fence in a known language with classes, and leaves diagrams and unknown languages plain', async () => {
    const js = 'async function getFeed(userId) {\n  // cache first\n  return redis.get(`feed:${userId}`)\n}'
    const text = '```javascript\n' + js + '\n```\n\n```\n┌──┐\n│ab│\n└──┘\n```\n\n```brainfuck\n+[-->]\n```\n\nand `inline code`'
    const host = dom.host()
    act(() => dom.root().render(<Markdown text={text} />))
    const [code, diagram, unknown] = [...host.querySelectorAll('pre code')]
    await waitUntil(() => code.getAttribute('data-highlighted') === 'yes')
    // the text is unchanged, only split into tokens
    expect(code.textContent).toBe(js + '\n')
    const tokens = (cls: string) => [...code.querySelectorAll(`span.${cls}`)].map((s) => s.textContent)
    expect(tokens('hljs-keyword')).toEqual(expect.arrayContaining(['async', 'function', 'return']))
    expect(tokens('hljs-comment')).toEqual(['// cache first'])
    expect(tokens('hljs-string')[0]).toContain('feed:')
    // colours come from the stylesheet (CSP-safe): no inline style anywhere
    expect(host.querySelector('[style]')).toBeNull()
    expect(diagram.children).toHaveLength(0)
    expect(diagram.textContent).toBe('┌──┐\n│ab│\n└──┘\n')
    expect(unknown.children).toHaveLength(0)
    expect(unknown.hasAttribute('data-highlighted')).toBe(false)
    expect(host.querySelector('p code')!.children).toHaveLength(0)
  })

  it('highlights the languages the bank uses: sql, toml and sh', async () => {
    const text = '```sql\nCREATE TABLE users (id BIGINT);\n```\n\n```toml\n[server]\nport = 8080\n```\n\n```sh\necho "hi"\n```'
    const host = dom.host()
    act(() => dom.root().render(<Markdown text={text} />))
    const blocks = [...host.querySelectorAll('pre code')]
    await waitUntil(() => blocks.every((b) => b.getAttribute('data-highlighted') === 'yes'))
    expect(blocks.map((b) => b.querySelectorAll('span[class^="hljs-"]').length > 0)).toEqual([true, true, true])
    expect(blocks[0].querySelector('.hljs-keyword')!.textContent).toBe('CREATE TABLE')
  })

  it('drops raw HTML and unsafe links', () => {
    const host = dom.host()
    act(() =>
      dom
        .root()
        .render(
          <Markdown
            text={'<img src=x onerror="alert(1)"> <script>alert(2)</script>\n\n[x](javascript:alert(3)) [ok](https://example.org)'}
          />,
        ),
    )
    expect(host.querySelector('img, script')).toBeNull()
    expect(host.innerHTML).not.toContain('javascript:')
    expect(host.querySelectorAll('a')).toHaveLength(1)
    expect(host.querySelector('a')!.getAttribute('href')).toBe('https://example.org')
  })
})

describe('checkpoints', () => {
  it('reads numbers as people write them', () => {
    expect(parseNumber('11,250')).toBe(11250)
    expect(parseNumber('~11.25k QPS')).toBe(11250)
    expect(parseNumber('750 GB')).toBe(750)
    expect(parseNumber('$225,000/month')).toBe(225000)
    expect(parseNumber('none')).toBeNull()
  })

  it('accepts within the precision the answer implies', () => {
    expect(toleranceOf('34')).toBe(0.5)
    expect(toleranceOf('99.7')).toBeCloseTo(0.05)
    expect(toleranceOf('11250')).toBe(225)
    expect(check('34', '34')).toEqual({ ok: true })
    expect(check('34', '35')).toEqual({ ok: false, reason: 'wrong' })
    expect(check('99.7', '99.7%')).toEqual({ ok: true })
    expect(check('99.7', '0.997')).toEqual({ ok: true })
    expect(check('99.7', '99.9')).toEqual({ ok: false, reason: 'wrong' })
    expect(check('11250', '11,300')).toEqual({ ok: true })
    expect(check('11250', '12000')).toEqual({ ok: false, reason: 'wrong' })
    expect(check('5', 'five servers')).toEqual({ ok: false, reason: 'not-a-number' })
    expect(check('5', ' ')).toEqual({ ok: false, reason: 'empty' })
  })

  it('accepts written answers holding most key words', () => {
    const want = 'Distribute traffic and provide failover'
    expect(check(want, 'to distribute the traffic and fail over... failover')).toEqual({ ok: true })
    expect(check(want, 'caching')).toEqual({ ok: false, reason: 'wrong' })
  })

  it('every checkpoint of the fixtures accepts its own answer', () => {
    for (const { problem } of Object.values(PROBLEMS))
      for (const c of problem.tutorial?.checkpoints ?? []) expect(check(c.answer, c.answer), c.question).toEqual({ ok: true })
  })
})

describe('progress', () => {
  beforeEach(() => localStorage.clear())

  it('only improves, and says not started / in progress / done', () => {
    expect(statusOf(loadProgress().p1)).toBe('not-started')
    recordProgress('p1', { bestTier: 2, tiers: 3, hintsUsed: 1 })
    recordProgress('p1', { bestTier: 1, tiers: 3 })
    expect(loadProgress().p1.bestTier).toBe(2)
    expect(statusOf(loadProgress().p1)).toBe('in-progress')
    recordProgress('p1', { bestTier: 3, tiers: 3 })
    expect(statusOf(loadProgress().p1)).toBe('done')
    recordProgress('p2', { checkpoints: [0], checkpointCount: 2 })
    recordProgress('p2', { checkpoints: [1], checkpointCount: 2, bestTier: 3, tiers: 3 })
    expect(loadProgress().p2.checkpoints).toEqual([0, 1])
    expect(statusOf(loadProgress().p2)).toBe('done')
  })

  it('exports to a file and imports it back, merging', () => {
    recordProgress('p1', { bestTier: 2, tiers: 3 })
    const file = exportProgress()
    localStorage.clear()
    recordProgress('p3', { hintsUsed: 2 })
    expect(importProgress(file)).toBe(1)
    expect(Object.keys(loadProgress()).sort()).toEqual(['p1', 'p3'])
    expect(loadProgress().p1.bestTier).toBe(2)
  })

  it('refuses a file that is not a progress export, and survives a corrupt store', () => {
    expect(() => importProgress('{"a":1}')).toThrow(/not a tierboard progress export/)
    expect(() => importProgress('nope')).toThrow(/not JSON/)
    localStorage.setItem(STORAGE_KEY, '{broken')
    expect(loadProgress()).toEqual({})
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ p1: { bestTier: 'x', checkpoints: [2, 2, -1] }, 'BAD ID': {} }))
    expect(loadProgress()).toEqual({ p1: { bestTier: 0, tiers: 0, hintsUsed: 0, checkpoints: [0, 2], checkpointCount: 0, updated: 0 } })
  })
})

describe('coaching', () => {
  const catalog = new Catalog([
    { type: 'lb', name: 'Load Balancer', kind: 'lb', family: 'network', icon: '', aliases: [], params: [] },
    { type: 'db_replica', name: 'Read Replica', kind: 'db_replica', family: 'data', icon: '', aliases: [], params: [] },
  ])
  const blog = PROBLEMS['tutorial-simple-blog'].problem
  const hints = blog.hints ?? []

  it('links a failing rule to the hint naming its component or tier', () => {
    const lbTier = blog.tiers.findIndex((t) => t.rules.some((r) => r.type === 'lb'))
    expect(lbTier).toBeGreaterThanOrEqual(0)
    const i = hintFor({ type: 'lb' }, blog.tiers[lbTier].id, hints, catalog)
    expect(i).not.toBeNull()
    expect(hints[i!]).toMatch(/Load Balancer/)
  })

  it('gives none when no hint speaks to the rule', () => {
    expect(hintFor({ type: 'quantum_repeater' }, 'T9', hints, catalog)).toBeNull()
  })
})

describe('shared hints in the room document', () => {
  function sync(a: Y.Doc, b: Y.Doc) {
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
  }

  it('reveals one at a time, the same for everyone, and never beyond the last', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    revealNextHint(a, 'Ann', 2)
    sync(a, b)
    expect(revealedHints(b)).toEqual([{ by: 'Ann', at: expect.any(Number) }])
    // both press at once: the room still advances by one
    revealNextHint(a, 'Ann', 2)
    revealNextHint(b, 'Bob', 2)
    sync(a, b)
    expect(revealedHints(a)).toHaveLength(2)
    expect(revealedHints(a)).toEqual(revealedHints(b))
    expect(revealNextHint(a, 'Ann', 2)).toBe(2)
    expect(revealedHints(a)).toHaveLength(2)
  })

  it('reads malformed entries leniently and ignores entries after a gap', () => {
    const d = new Y.Doc()
    docRoot(d).hints.set('0', 'junk')
    docRoot(d).hints.set('2', { by: 'X', at: 1 })
    expect(revealedHints(d)).toEqual([{ by: '', at: 0 }])
  })
})

describe('units', () => {
  it('reads the unit from the constant name and groups digits', () => {
    expect(unitOf('cache_ttl_ms')).toBe('ms')
    expect(unitOf('peak_rps')).toBe('per second')
    expect(unitOf('storage_per_year_tb')).toBe('TB')
    expect(unitOf('replication_factor')).toBe('')
    expect(formatValue(87000)).toBe('87,000')
    expect(formatValue(true)).toBe('yes')
  })
})

describe('design against the reference', () => {
  const catalog = new Catalog([
    { type: 'client', name: 'Client', kind: 'client', family: 'edge', icon: '', aliases: [], params: [] },
    { type: 'redirect_client', name: 'Redirect client', kind: 'client', family: 'edge', icon: '', aliases: [], params: [] },
    { type: 'app', name: 'App Server', kind: 'app', family: 'compute', icon: '', aliases: [], params: [] },
    { type: 'lb', name: 'Load Balancer', kind: 'lb', family: 'network', icon: '', aliases: [], params: [] },
    { type: 'cache', name: 'Cache', kind: 'cache', family: 'data', icon: '', aliases: [], params: [] },
  ])
  const reference = {
    source: 'seed',
    nodes: [
      { id: 'c', type: 'redirect_client', label: 'Users', x: 0, y: 0 },
      { id: 'l', type: 'lb', label: 'LB', x: 240, y: 0 },
      { id: 'a', type: 'app', label: 'Apps', x: 480, y: 0, params: { instances: 8 } },
    ],
    edges: [],
  }
  const node = (id: string, type: string, params = {}) => ({ id, type, label: type, x: 0, y: 0, params })

  it('lists what each side lacks, by kind, and smaller fleets', () => {
    const d = designDiff(
      { nodes: [node('1', 'client'), node('2', 'app', { instances: 2 }), node('3', 'cache'), node('4', 'note')], edges: [] },
      reference,
      catalog,
    )
    expect(d.missing).toEqual([{ kind: 'lb', labels: ['LB'] }])
    expect(d.extra).toEqual([{ kind: 'cache', labels: ['cache'] }])
    expect(d.smaller).toEqual([{ kind: 'app', design: 2, reference: 8 }])
  })

  it('finds nothing to say about the reference itself', () => {
    const d = designDiff({ nodes: reference.nodes.map((n) => ({ ...n, params: n.params ?? {} })), edges: [] }, reference, catalog)
    expect(d).toEqual({ missing: [], extra: [], smaller: [] })
  })
})

describe('estimates to practise', () => {
  it('asks for figures from the targets and accepts its own worked answers', () => {
    const drills = estimateDrills({
      id: 'x',
      title: 'x',
      category: 'c',
      available_components: [],
      tiers: [],
      targets: { peak_rate_per_sec: 87000, availability_percent: 99.99 },
    })
    expect(drills.map((d) => d.answer)).toEqual(['7520', '87', '52.6'])
    expect(drills[2].hint).toContain('525,600')
    for (const d of drills) expect(check(d.answer, d.answer)).toEqual({ ok: true })
    expect(check(drills[1].answer, '80')).toEqual({ ok: false, reason: 'wrong' })
    expect(estimateDrills({ id: 'y', title: 'y', category: 'c', available_components: [], tiers: [] })).toEqual([])
  })
})

describe('the tiers behind a choice', () => {
  const dom = setupHost()
  beforeEach(() => localStorage.clear())

  it('hides the answers until asked, then remembers the choice in this browser', () => {
    const render = () => act(() => dom.root().render(<TiersGate count={3}>{<ol className="tier-list">Must include: lb</ol>}</TiersGate>))
    render()
    const host = dom.host()
    expect(host.querySelector('.tier-list')).toBeNull()
    expect(host.textContent).toContain('The 3 tiers list the checks')
    act(() => [...host.querySelectorAll('button')].find((b) => b.textContent === 'Show the tiers')!.click())
    expect(host.querySelector('.tier-list')!.textContent).toBe('Must include: lb')
    expect(localStorage.getItem(TIERS_SHOWN_KEY)).toBe('yes')
    act(() => dom.root().render(<p />))
    render()
    expect(host.querySelector('.tier-list')).not.toBeNull()
    act(() => [...host.querySelectorAll('button')].find((b) => /^Hide the tiers/.test(b.textContent ?? ''))!.click())
    expect(host.querySelector('.tier-list')).toBeNull()
  })
})
