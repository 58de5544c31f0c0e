// Browser end-to-end test of an interview session (issue 22, Acceptance): two browser contexts, the
// host and the candidate, on a server started with --hide-solutions. The host creates the room in
// interview mode from the problem page, hands out the candidate link, starts the shared clock,
// reveals a hint, looks at the reference overlay (the candidate's page never holds it), throws a
// curveball (the candidate sees the banner, the capacity results change and the capacity tier is lost,
// then reached again when the host clears it), and locks and unlocks
// the canvas (the candidate cannot edit while locked). Screenshots in screenshots/interview-*.png.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { addFromPalette, axeSerious, nodeSel, setup, shot, waitFor } from './harness.mjs'

const env = setup({ serverArgs: ['--hide-solutions'] })
const DESKTOP = { width: 1440, height: 900 }
// 10,000 rps at peak; two hints; a reference design with "Dashboard Users".
const PROBLEM = 'database-query-cache'

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
      params: { instances: 4 },
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

async function menu(page, label, open) {
  const details = page.locator('details', {
    has: page.locator('summary', { hasText: label }),
  })
  if ((await details.evaluate((d) => d.open)) !== open) await details.locator('summary').click()
  return details
}

async function importDesign(page, design) {
  await menu(page, 'Export', true)
  await page.locator('input[type=file]').setInputFiles({
    name: 'design.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(design)),
  })
  await menu(page, 'Export', false)
}

const clockMs = async (page) => {
  const t = (await page.getByTestId('iv-clock').first().textContent()).trim()
  const [m, s] = t.split(':').map(Number)
  return (m * 60 + s) * 1000
}

/** Long strings of a JSON value: the distinctive text of a reference design or an analysis. */
function longStrings(value, out = []) {
  if (typeof value === 'string') {
    if (value.length >= 24) out.push(value)
  } else if (Array.isArray(value)) value.forEach((v) => longStrings(v, out))
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => longStrings(v, out))
  return out
}

describe('an interview session', () => {
  it('host runs the clock, hints, reference, curveball and lock; the candidate sees only what is revealed', async () => {
    const base = env.server.base
    // ---- the host creates an interview room from the problem page ----
    const host = await env.person('Ines')
    const hp = host.page
    await hp.setViewportSize(DESKTOP)
    await hp.goto(`${base}/problems/${PROBLEM}`)
    await hp.getByText('Mock interview').click()
    await shot(hp, 'interview-0-start.png')
    await hp.getByRole('button', { name: 'Start the interview room' }).click()
    await hp.waitForURL(/\/r\/[^#]+#host=/)
    await hp.waitForSelector('.react-flow__renderer')
    await hp.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
    await hp.getByTestId('host-console').waitFor()
    const room = new URL(hp.url()).pathname.split('/').pop()
    const fragment = new URLSearchParams(new URL(hp.url()).hash.slice(1))
    const hostToken = fragment.get('host')
    assert.ok(hostToken && fragment.get('edit') && fragment.get('view'), 'the host link carries every token')

    // The share menu hands out the candidate link (never the host token).
    await menu(hp, 'Share', true)
    const candidateUrl = await hp.getByLabel('Candidate link').inputValue()
    assert.ok(!candidateUrl.includes(hostToken), 'the candidate link holds no host token')
    assert.ok(await hp.getByLabel('Observer link').inputValue())
    await hp.getByTestId('rotate-view').waitFor()
    await shot(hp, 'interview-1-share.png')
    await menu(hp, 'Share', false)

    // ---- the candidate joins ----
    const cand = await env.person('Carl')
    const cp = cand.page
    await cp.setViewportSize(DESKTOP)
    await cp.goto(candidateUrl)
    await cp.waitForSelector('.react-flow__renderer')
    await cp.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
    await cp.getByTestId('interview-bar').waitFor()
    assert.equal(await cp.getByTestId('host-console').count(), 0, 'no host console for the candidate')
    assert.equal(await cp.getByRole('tab', { name: /^Answer/ }).count(), 0, 'no answer tab before the host reveals it')
    // Presence names roles: the candidate sees the host marked, the host sees the candidate.
    await waitFor(async () => (await cp.locator('[data-testid=participant][data-role=host]').count()) === 1, 'the host in presence')
    await waitFor(async () => (await hp.locator('[data-testid=hc-person][data-name=Carl]').count()) === 1, 'the candidate in the console')
    assert.match(await hp.locator('[data-testid=hc-person][data-name=Carl]').textContent(), /Candidate/)

    await importDesign(hp, DESIGN)
    for (const p of [hp, cp]) await waitFor(async () => (await p.locator('.react-flow__node').count()) === 5, 'the design on both pages')

    // ---- the shared clock ----
    assert.equal(await cp.getByTestId('iv-state').textContent(), 'Not started')
    assert.equal(await clockMs(cp), 5 * 60_000)
    await hp.getByRole('button', { name: 'Start the clock' }).click()
    await waitFor(
      async () => (await cp.getByTestId('iv-clock').getAttribute('data-running')) === 'true',
      'the clock running at the candidate',
    )
    await waitFor(async () => (await clockMs(cp)) < 5 * 60_000, 'the candidate clock counting down', 4000)
    const [h, c] = [await clockMs(hp), await clockMs(cp)]
    assert.ok(Math.abs(h - c) <= 1000, `host ${h} ms and candidate ${c} ms agree within a second`)
    assert.match(await cp.getByTestId('iv-phase').textContent(), /Requirements/)
    // Next phase, then the host's own phases (which restart the clock at the first).
    await hp.getByRole('button', { name: 'Next phase' }).click()
    await cp.getByTestId('iv-phase').filter({ hasText: 'Estimates' }).waitFor()
    await hp.getByRole('button', { name: 'Edit the phases' }).click()
    await hp.getByLabel('Phase 1 minutes').fill('2')
    await hp.getByLabel('Phase 5 name').fill('Deep dive and wrap-up')
    await hp.getByRole('button', { name: 'Add a phase' }).click()
    await hp.getByTestId('hc-clock').scrollIntoViewIfNeeded()
    await shot(hp, 'interview-1b-phases.png')
    await hp.getByRole('button', { name: 'Start with these phases' }).click()
    await cp.getByTestId('iv-phase').filter({ hasText: 'Requirements' }).waitFor()
    await waitFor(async () => (await clockMs(cp)) <= 2 * 60_000, 'two minutes on the clock')
    assert.equal(await cp.locator('.iv-phases li').count(), 6)
    assert.match(await cp.locator('.iv-phases').textContent(), /Deep dive and wrap-up.*Wrap-up/)

    // ---- a hint on cue ----
    const answer = await (await fetch(`${base}/api/rooms/${room}/solution?token=${hostToken}`)).json()
    assert.equal(answer.hints.length, 2)
    assert.equal((await fetch(`${base}/api/rooms/${room}/solution?token=${fragment.get('edit')}`)).status, 403)
    await hp.getByTestId('hc-reveal-hint-0').click()
    await cp.getByTestId('revealed-hint').filter({ hasText: answer.hints[0] }).waitFor()
    assert.equal(await cp.getByTestId('revealed-hint').count(), 1)

    // ---- the reference: overlay and diff for the host only ----
    await hp.getByTestId('hc-overlay').check()
    await hp.locator('.ghost-node', { hasText: 'Dashboard Users' }).waitFor()
    await hp.getByTestId('hc-diff').waitFor()
    await hp.getByTestId('hc-notes-text').fill('Good on caching; probe cache invalidation next.')
    await hp.getByTestId('hc-notes-status').filter({ hasText: 'Saved on the server' }).waitFor()
    await hp.getByTestId('hc-diff').scrollIntoViewIfNeeded()
    await hp.waitForTimeout(400)
    await shot(hp, 'interview-2-host-reference.png')
    await shot(cp, 'interview-3-candidate-hint.png')
    const secrets = [
      ...longStrings(answer.reference_solution),
      ...longStrings(answer.analysis),
      answer.hints[1],
      'Dashboard Users',
      'probe cache invalidation',
    ]
    const html = await cp.content()
    for (const s of secrets) assert.ok(!html.includes(s), `the candidate's page holds "${s.slice(0, 60)}"`)
    assert.equal(await cp.getByTestId('reference-ghost').count(), 0)

    // ---- a curveball: 5× peak and a failed cache ----
    await cp.getByRole('tab', { name: /Capacity/ }).click()
    const offered = () => cp.getByTestId('fig-offered').textContent()
    await waitFor(async () => (await offered()).startsWith('10,000') || (await offered()).startsWith('10k'), 'the candidate at peak')
    const badgeBefore = await cp.getByTestId('capacity-badge').textContent()
    const sustains = () => cp.getByTestId('sim-checks').locator('[data-check="sustains_peak"]').getAttribute('data-status')
    const heat = (page, id) => page.locator(`.react-flow__node[data-id="${id}"] .tb-node`).getAttribute('data-heat')
    assert.match(await sustains(), /pass/, 'four app servers sustain the peak')
    assert.notEqual(await heat(cp, 'app'), 'over')
    assert.match(await cp.getByTestId('capacity-panel').textContent(), /at the problem's peak/)
    // The tiers: all four reached at peak (T3 "holds the peak of 10,000 requests/s").
    const tiersBadge = () => cp.getByRole('tab', { name: /Tiers/ }).locator('.badge').textContent()
    const t3 = () => cp.getByTestId('tier-strip').locator('.tier-strip-tier', { hasText: 'T3' }).getAttribute('data-reached')
    await waitFor(async () => (await tiersBadge()) === '4/4', 'every tier reached at peak')
    assert.equal(await t3(), 'true')
    const offeredBefore = await offered()
    await hp.getByTestId('hc-load').fill('5')
    await hp.getByTestId('hc-fail').selectOption('cache')
    await hp.getByTestId('hc-throw').click()
    await waitFor(
      async () => (await hp.getByTestId('hc-curveball-now').count()) + (await hp.locator('.host-console .error-box').count()) > 0,
      'the curveball at the host',
    ).catch(async (e) => {
      await shot(hp, 'interview-debug-host.png')
      throw e
    })
    assert.equal(await hp.locator('.host-console .error-box').count(), 0, await hp.locator('.host-console').textContent())
    const banner = cp.getByTestId('curveball-banner')
    await banner.waitFor()
    assert.match(await banner.textContent(), /Traffic at 5× peak \(50,000 rps\); Cache has failed/)
    await waitFor(async () => (await offered()) !== offeredBefore, 'the capacity figures under the curveball')
    assert.match(await offered(), /^50(,000|k)/)
    // 50,000 rps on four app servers (20,000 rps): the app server runs red, requests fail end to end.
    await waitFor(async () => (await heat(cp, 'app')) === 'over', 'the app server red under the curveball')
    assert.equal(await heat(cp, 'cache'), 'failed')
    assert.match(await cp.getByTestId('fig-errors').getAttribute('class'), /bad/)
    assert.match(await cp.getByTestId('capacity-panel').textContent(), /under the host's curveball \(5× peak, Cache failed\)/)
    // The tiers are re-judged under the curveball: the capacity tier is lost, and so is the check.
    await waitFor(async () => (await t3()) === 'false', 'the capacity tier lost under the curveball')
    assert.equal(await tiersBadge(), '3/4')
    assert.match(await sustains(), /fail/, 'sustains_peak judged under the curveball')
    const badgeAfter = await cp.getByTestId('capacity-badge').textContent()
    assert.notEqual(badgeAfter, badgeBefore)
    console.log(`capacity checks ${badgeBefore} → ${badgeAfter}, offered ${offeredBefore} → ${await offered()}, tiers 4/4 → 3/4`)
    await shot(cp, 'interview-4-candidate-curveball.png')
    await cp.getByRole('tab', { name: /Tiers/ }).click()
    const tier3 = cp.getByTestId('tier-T3')
    assert.equal(await tier3.getAttribute('data-reached'), 'false')
    assert.match(await tier3.textContent(), /at 5× peak \(50,000 rps\) with 'Cache' failed/)
    await tier3.scrollIntoViewIfNeeded()
    await shot(cp, 'interview-4b-candidate-tiers-curveball.png')
    // Cleared: the banner goes and the tier is reached again, at the plain peak.
    await hp.getByTestId('hc-curveball-now').getByRole('button', { name: 'Clear it' }).click()
    await banner.waitFor({ state: 'detached' })
    await waitFor(async () => (await tier3.getAttribute('data-reached')) === 'true', 'the capacity tier back when the curveball is cleared')
    assert.equal(await cp.getByTestId('tiers-reached').textContent(), '4 of 4 tiers reached')
    assert.match(await tier3.textContent(), /at the peak of 10,000 rps/)
    await cp.getByRole('tab', { name: /Capacity/ }).click()
    await waitFor(async () => /pass/.test(await sustains()), 'sustains_peak passes again at peak')

    // ---- lock and unlock ----
    await addFromPalette(cp, 'db_replica')
    await waitFor(async () => (await hp.locator(nodeSel('db_replica')).count()) === 1, 'the candidate edit at the host')
    await hp.getByTestId('hc-lock').click()
    await cp.getByTestId('iv-locked').waitFor()
    assert.equal(await cp.getByTestId('read-only').getAttribute('data-reason'), 'locked')
    assert.equal(await cp.locator('.palette-item').count(), 0, 'no palette while locked')
    // Deleting by keyboard does nothing either.
    await cp.locator(nodeSel('db_replica')).click()
    await cp.keyboard.press('Delete')
    await cp.waitForTimeout(600)
    assert.equal(await cp.locator(nodeSel('db_replica')).count(), 1, 'the candidate could delete while locked')
    assert.equal(await hp.locator(nodeSel('db_replica')).count(), 1)
    await shot(cp, 'interview-5-candidate-locked.png')
    await hp.getByTestId('hc-unlock').click()
    await cp.getByTestId('iv-locked').waitFor({ state: 'detached' })

    // ---- a refused edit is shown, not silent: made offline, sent after the host locked ----
    await cand.context.setOffline(true)
    await cp.getByTestId('link-status').filter({ hasText: 'Offline' }).waitFor()
    await addFromPalette(cp, 'app')
    assert.equal(await cp.locator(nodeSel('app')).count(), 2)
    await hp.getByTestId('hc-lock').click()
    await cand.context.setOffline(false)
    await cp.getByRole('status').filter({ hasText: 'Your last change was not applied: the host has locked the canvas' }).waitFor()
    // The board starts over from the room: the refused component is gone, and never reached the host.
    await waitFor(async () => (await cp.locator(nodeSel('app')).count()) === 1, 'the refused change dropped at the candidate')
    await cp.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor()
    await cp.getByTestId('iv-locked').waitFor()
    assert.equal(await hp.locator(nodeSel('app')).count(), 1)
    await shot(cp, 'interview-5b-candidate-refused.png')
    await hp.getByTestId('hc-unlock').click()
    await cp.getByTestId('iv-locked').waitFor({ state: 'detached' })
    await addFromPalette(cp, 'cache')
    await waitFor(async () => (await hp.locator(nodeSel('cache')).count()) === 2, 'the candidate edits again after unlock')

    // ---- a driver: the host hands editing to the candidate, then back to everyone ----
    await hp.locator('[data-testid=hc-person][data-name=Carl]').getByRole('button', { name: 'Make driver' }).click()
    await cp.getByTestId('iv-driver').filter({ hasText: 'You are driving' }).waitFor()
    await hp.getByTestId('iv-driver').filter({ hasText: 'Carl is driving' }).waitFor()
    await hp.locator('[data-testid=participant][data-name=Carl][data-driver=true]').waitFor()
    assert.equal(await cp.getByTestId('read-only').count(), 0, 'the driver edits')
    await shot(hp, 'interview-6-host.png')
    await hp.getByRole('button', { name: 'Everyone edits' }).click()
    await cp.getByTestId('iv-driver').waitFor({ state: 'detached' })

    assert.deepEqual(await axeSerious(hp, '.sidebar'), [], 'axe on the host console')
    assert.deepEqual(await axeSerious(cp, '.iv-bar'), [], 'axe on the interview bar')

    // ---- reveal the answer to the room, then take it back ----
    await hp.getByTestId('hc-reveal-solution').click()
    await cp.getByRole('tab', { name: /^Answer/ }).click()
    await cp.getByRole('button', { name: 'Show the reference' }).click()
    await cp.locator('.ghost-node', { hasText: 'Dashboard Users' }).waitFor()
    await hp.getByRole('button', { name: 'Hide it again' }).click()
    await cp.getByRole('tab', { name: /^Answer/ }).waitFor({ state: 'detached' })
    assert.equal(await cp.locator('.ghost-node').count(), 0, 'the ghost goes with the answer')

    // ---- revoke the candidate link: the candidate is disconnected, the new link works ----
    await menu(hp, 'Share', true)
    await hp.getByTestId('rotate-edit').click()
    await hp.getByTestId('rotate-edit').filter({ hasText: 'Click again' }).click()
    await waitFor(async () => (await hp.getByLabel('Candidate link').inputValue()) !== candidateUrl, 'a new candidate link')
    await cp
      .getByText(/Cannot open this room: .*revoked/)
      .waitFor({ timeout: 5000 })
      .catch(async (e) => {
        await shot(cp, 'interview-debug-cand.png')
        throw e
      })
    const fresh = await hp.getByLabel('Candidate link').inputValue()
    assert.equal(
      (await fetch(`${base}/api/rooms/${room}?token=${new URLSearchParams(new URL(candidateUrl).hash.slice(1)).get('edit')}`)).status,
      401,
    )
    assert.equal(
      (await fetch(`${base}/api/rooms/${room}?token=${new URLSearchParams(new URL(fresh).hash.slice(1)).get('edit')}`)).status,
      200,
    )
    await shot(cp, 'interview-7-candidate-revoked.png')
    // the host's own page keeps working with the new tokens in its fragment
    assert.equal(
      new URLSearchParams(new URL(hp.url()).hash.slice(1)).get('edit'),
      new URLSearchParams(new URL(fresh).hash.slice(1)).get('edit'),
    )
    // a revoked connection logs its 4401 close, and a request the revoked page still makes (a room
    // info or problem fetch racing the close) is refused with 401, which Chromium logs; nothing else may
    const errors = [...host.errors, ...cand.errors].filter(
      (e) => !/^Carl: WebSocket connection .* failed|4401|^Carl: Failed to load resource: .* 401 \(Unauthorized\)/.test(e),
    )
    assert.deepEqual(errors, [], 'no console errors')
  })
})
