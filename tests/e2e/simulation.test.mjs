// Browser end-to-end tests of the capacity simulation (issue 19, Acceptance): the heat colours on the
// canvas follow the room's live `simulation` message as app instances are added, the bottleneck
// call-out names the saturating node with its arithmetic, and the what-if control (a load spike, a
// failed node) changes the figures for the person using it only. Screenshots in screenshots/.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { axeSerious, createRoom, roomUrl, setup, shot, waitFor } from './harness.mjs'

const env = setup()
const DESKTOP = { width: 1440, height: 900 }
// 10,000 rps at peak (targets.peak_rate_per_sec), availability 99.9 %: the single-point-of-failure check shows.
const PROBLEM = 'database-query-cache'

/** Readers → balancer → one app server, which reads through a cache from a database. */
const DESIGN = {
  nodes: [
    { id: 'users', type: 'client', label: 'Users', x: 0, y: 160, params: {} },
    {
      id: 'lb',
      type: 'lb',
      label: 'Load Balancer',
      x: 260,
      y: 160,
      params: {},
    },
    {
      id: 'app',
      type: 'app',
      label: 'App Servers',
      x: 520,
      y: 160,
      params: { instances: 1 },
    },
    {
      id: 'cache',
      type: 'cache',
      label: 'Cache',
      x: 800,
      y: 40,
      params: { hit_rate: 0.9 },
    },
    {
      id: 'db',
      type: 'db_primary',
      label: 'Database',
      x: 800,
      y: 280,
      params: {},
    },
  ],
  edges: [
    { id: 'e1', from: 'users', to: 'lb' },
    { id: 'e2', from: 'lb', to: 'app' },
    { id: 'e3', from: 'app', to: 'cache' },
    { id: 'e4', from: 'app', to: 'db' },
  ],
}

async function openMenu(page, label) {
  const details = page.locator('details', {
    has: page.locator('summary', { hasText: label }),
  })
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click()
}

async function importDesign(page, design) {
  await openMenu(page, 'Export')
  await page.locator('input[type=file]').setInputFiles({
    name: 'design.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(design)),
  })
  // close the menu again: it lies over the room's tabs
  const details = page.locator('details', {
    has: page.locator('summary', { hasText: 'Export' }),
  })
  if (await details.evaluate((d) => d.open)) await details.locator('summary').click()
}

async function join(name, url) {
  const p = await env.person(name)
  await p.page.setViewportSize(DESKTOP)
  await p.page.goto(url)
  await p.page.waitForSelector('.react-flow__renderer')
  await p.page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
  return p
}

const heatOf = (page, id) => page.locator(`.react-flow__node[data-id="${id}"] .tb-node`)
const band = (page, id) => heatOf(page, id).getAttribute('data-heat')
const utilisation = async (page, id) => Number(await heatOf(page, id).getAttribute('data-utilisation'))
const edgeWidth = (page, id) =>
  page
    .locator(`.react-flow__edge[data-id="${id}"] path.react-flow__edge-path`)
    .evaluate((el) => parseFloat(getComputedStyle(el).strokeWidth))

async function setInstances(page, id, n) {
  await heatOf(page, id).click()
  await page.getByRole('tab', { name: /Inspect/ }).click()
  await page.getByLabel(/^instances/).fill(String(n))
  await page.getByRole('tab', { name: /Capacity/ }).click()
}

describe('capacity simulation in a room', () => {
  it('colours nodes by utilisation, names the bottleneck, and runs what-ifs for one person only', async () => {
    const created = await createRoom(env.server.base, PROBLEM)
    const ada = await join('Ada', roomUrl(env.server.base, created, 'edit'))
    const bob = await join('Bob', roomUrl(env.server.base, created, 'view'))
    const { page } = ada
    await importDesign(page, DESIGN)
    await waitFor(async () => (await page.locator('.react-flow__node').count()) === 5, 'the imported design')
    await page.keyboard.press('f').catch(() => {})

    // Heat appears at both participants: one app instance (5,000 rps) at a 10,000 rps peak is over 100 %.
    for (const p of [ada, bob]) await waitFor(async () => (await band(p.page, 'app')) === 'over', `the app server red at ${p.name}`)
    assert.ok((await utilisation(page, 'app')) > 1.9, 'app at about 200 %')
    await page.getByTestId('heat-legend').waitFor()
    assert.match(await heatOf(page, 'app').getByTestId('node-heat').textContent(), /^200% · 10k rps · [\d.]+ms$/)
    assert.equal(await heatOf(page, 'app').getByTestId('bottleneck-tag').count(), 1)
    // Edges are drawn by their traffic: the balancer's edge carries every request, the database's a fraction.
    const wide = await edgeWidth(page, 'e2')
    const narrow = await edgeWidth(page, 'e4')
    assert.ok(wide > narrow, `edge widths follow the traffic: lb→app ${wide}px, app→db ${narrow}px`)

    // The capacity tab: the bottleneck call-out names the saturating node and shows the arithmetic.
    await page.getByRole('tab', { name: /Capacity/ }).click()
    const callout = page.getByTestId('bottleneck-callout')
    await callout.getByText('Bottleneck: App Servers').waitFor()
    assert.match(await callout.textContent(), /1 × 5,000 = 5,000 rps/)
    assert.match(await callout.textContent(), /1 − 1\/2 = 50 %/)
    assert.match(await page.getByTestId('sim-checks').locator('[data-check="sustains_peak"]').getAttribute('data-status'), /fail/)
    await shot(page, 'simulation-1-app-over.png')
    assert.deepEqual(await axeSerious(page, '.sidebar'), [], 'axe on the capacity panel')

    // More app instances: the node cools (colour and figure), and the call-out follows.
    await setInstances(page, 'app', 3)
    for (const p of [ada, bob]) await waitFor(async () => (await band(p.page, 'app')) === 'warm', `the app server warm at ${p.name}`)
    const u3 = await utilisation(bob.page, 'app')
    assert.ok(Math.abs(u3 - 10_000 / 15_000) < 1e-3, `10,000 ÷ (3 × 5,000) = 66.7 %, got ${u3}`)
    await waitFor(async () => (await callout.textContent()).includes('3 × 5,000 = 15,000 rps'), 'the call-out with three instances')
    await shot(page, 'simulation-2-app-warm.png')
    await setInstances(page, 'app', 6)
    await waitFor(async () => (await band(page, 'app')) === 'cool', 'the app server cool with six instances')
    const bottleneck = await callout.locator('strong').textContent()
    assert.match(bottleneck, /^Bottleneck: /)
    assert.match(await callout.textContent(), /saturates first, at [\d.,k]+ rps \([\d.]+× peak\)/)
    await shot(page, 'simulation-3-app-cool.png')

    // What-if: a 4× spike, for Ada only. The figures change; Bob's canvas stays at peak.
    const offered = () => page.getByTestId('fig-offered').textContent()
    assert.equal(await offered(), '10,000 rps')
    const slider = page.getByTestId('load-multiplier')
    await slider.fill('4')
    await waitFor(async () => (await offered()) === '40,000 rps', 'the figures at 4× peak')
    await waitFor(async () => (await band(page, 'app')) === 'over', 'the app server over 100 % at 4× peak')
    assert.equal(await page.getByTestId('load-label').textContent(), '× 4 peak')
    assert.match(await page.getByTestId('heat-legend').textContent(), /4× peak/)
    assert.notEqual(await page.getByTestId('fig-errors').textContent(), '0 %')
    assert.equal(await band(bob.page, 'app'), 'cool', 'the room (Bob) still sees the peak')
    await shot(page, 'simulation-4-spike.png')

    // Fail a node at peak. The database: the cache still answers its hits (90 % of the reads), so
    // only the misses and the writes fail. The only app tier: the balancer has no target left, 100 %.
    await page.getByRole('button', { name: 'Peak', exact: true }).click()
    await waitFor(async () => (await offered()) === '10,000 rps', 'back to peak')
    await page.getByTestId('fail-node').selectOption('db')
    await waitFor(async () => (await band(page, 'db')) === 'failed', 'the database drawn failed')
    const dbErrors = parseFloat(await page.getByTestId('fig-errors').textContent())
    assert.ok(dbErrors > 0 && dbErrors < 100, `some requests fail without the database: ${dbErrors} %`)
    assert.equal(await band(bob.page, 'db'), 'cool')
    await shot(page, 'simulation-5-db-failed.png')
    await page.getByTestId('fail-node').selectOption('app')
    await waitFor(async () => (await page.getByTestId('fig-errors').textContent()) === '100 %', 'error rate 100 % with the app tier failed')
    const spof = page.getByTestId('sim-checks').locator('[data-check="no_single_point_of_failure"]')
    assert.equal(await spof.getAttribute('data-status'), 'fail')
    assert.match(await spof.textContent(), /without App Servers the error rate is 100 %/)
    await page.getByRole('button', { name: 'Back to peak' }).click()
    await waitFor(async () => (await band(page, 'db')) !== 'failed', 'the room’s figures again')

    // The answer panel: the published analysis (normal / peak / failure) beside the design's figures.
    await page.getByRole('tab', { name: 'Answer' }).click()
    await page.getByRole('button', { name: 'Show the reference' }).click()
    const compare = page.getByTestId('sim-compare')
    await compare.waitFor()
    const rows = compare.locator('.sim-phase')
    assert.equal(await rows.count(), 3)
    await waitFor(
      async () => /Throughput: 5,000 of 5,000 rps/.test(await rows.nth(0).textContent()),
      'normal load simulated for the comparison',
    )
    assert.match(await rows.nth(1).textContent(), /Throughput: 10,000 of 10,000 rps/)
    assert.match(await rows.nth(2).textContent(), /Single points of failure: without/)
    await compare.scrollIntoViewIfNeeded()
    await shot(page, 'simulation-6-compare.png')
    assert.deepEqual(await axeSerious(page, '.sidebar'), [], 'axe on the answer panel')

    assert.deepEqual(ada.errors, [])
    assert.deepEqual(bob.errors, [])
  })
})
