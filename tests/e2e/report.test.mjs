// The session report page and its replay (issue 23): a candidate builds the blog design in an
// interview room, loses a tier and gets it back; the host opens /r/{room}/report, scrubs the replay
// (jumping to tier events, playing at 16×), exports Markdown and prints it; the candidate's link
// reads the report only once the host shares it. The host overrides the API checklist in the room (the
// candidate sees it live and has no such buttons) and again on the report; the final design is the
// canvas export's SVG, on the page and embedded in the Markdown.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { blogDesign } from './designs.mjs'
import { screenshots, setup, shot, waitFor } from './harness.mjs'

const env = setup()

async function createInterview(base) {
  const r = await fetch(`${base}/api/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ problem: 'tutorial-simple-blog', mode: 'interview' }),
  })
  assert.equal(r.status, 201)
  return r.json()
}

async function importDesign(page, design, replace) {
  const details = page.locator('details', { has: page.locator('summary', { hasText: 'Export' }) })
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click()
  await page.locator('input[type=file]').setInputFiles({
    name: 'd.json',
    mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(design)),
  })
  if (replace) await page.getByRole('button', { name: 'Replace the design' }).click()
}

async function timeline(base, room, token) {
  const r = await fetch(`${base}/api/rooms/${room}/timeline?token=${token}`)
  return (await r.json()).events
}

describe('session report', () => {
  it('shows the timeline, replays the session, exports Markdown and prints; the candidate waits for the share', async () => {
    const base = env.server.base
    const created = await createInterview(base)
    const { room, tokens } = created
    const host = (action) =>
      fetch(`${base}/api/rooms/${room}/host?token=${tokens.host}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(action),
      })
    assert.equal((await host({ action: 'clock_start' })).status, 200)

    const cand = await env.person('Cleo')
    await cand.page.setViewportSize({ width: 1440, height: 900 })
    await cand.page.goto(`${base}/r/${room}#edit=${tokens.edit}&view=${tokens.view}`)
    await cand.page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
    await cand.page.locator('.palette-item').first().waitFor()

    const full = blogDesign()
    await importDesign(cand.page, full, false)
    await waitFor(async () => (await timeline(base, room, tokens.host)).length >= 1, 'T0 reached')
    await new Promise((r) => setTimeout(r, 1500))
    // The app → database edge goes: T0 is lost.
    await importDesign(cand.page, { ...full, edges: full.edges.filter((e) => e.id !== 'e3') }, true)
    await waitFor(async () => (await timeline(base, room, tokens.host)).some((e) => e.event === 'lost'), 'a tier lost')
    await new Promise((r) => setTimeout(r, 1500))
    await importDesign(cand.page, full, true)
    const events = await waitFor(async () => {
      const ev = await timeline(base, room, tokens.host)
      return ev.filter((e) => e.tier === 'T0').length >= 3 ? ev : null
    }, 'T0 reached again')

    // The host judges the API checklist in the room: "view comments" is covered, whatever the name
    // matching says (the candidate wrote no endpoint). The candidate sees the verdict live, by name,
    // and has no buttons of their own.
    const hostP = await env.person('Hana')
    await hostP.page.setViewportSize({ width: 1280, height: 1000 })
    await hostP.page.goto(`${base}/r/${room}#host=${tokens.host}`)
    await hostP.page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
    const checklist = async (page) => {
      await page.getByRole('tab', { name: /^Sections/ }).click()
      const list = page.getByTestId('sec-checklist-api_coverage')
      await list.locator('summary').click()
      return list
    }
    const hostList = await checklist(hostP.page)
    const comments = (list) => list.locator('li', { hasText: 'Users can view comments' })
    assert.equal(await comments(hostList).getAttribute('data-status'), 'fail')
    await comments(hostList).getByTestId('api-verdict-covered').click()
    const candList = await checklist(cand.page)
    await comments(candList).getByTestId('api-override').filter({ hasText: 'host: covered · Hana' }).waitFor()
    assert.equal(await comments(candList).getAttribute('data-status'), 'pass')
    assert.equal(await candList.getByTestId('api-verdict-covered').count(), 0, 'the candidate cannot override')
    await comments(candList).scrollIntoViewIfNeeded()
    await shot(cand.page, 'report-api-override-live.png')

    // The candidate's link cannot read the report yet.
    const candReport = await cand.context.newPage()
    await candReport.goto(`${base}/r/${room}/report#edit=${tokens.edit}`)
    await candReport.getByTestId('report-error').filter({ hasText: 'not shared' }).waitFor()
    await shot(candReport, 'report-candidate-before-share.png')

    // The host's report.
    await hostP.page.goto(`${base}/r/${room}/report#host=${tokens.host}`)
    await hostP.page.getByTestId('report-page').waitFor()
    const items = hostP.page.getByTestId('tier-timeline').locator('li')
    assert.equal(await items.count(), events.length)
    const firstLoss = events.findIndex((e) => e.event === 'lost')
    assert.match(await items.nth(firstLoss).innerText(), new RegExp(`${events[firstLoss].tier} lost`))
    // The final design as an image: the canvas export's SVG, every component and connection.
    const image = hostP.page.getByTestId('report-design')
    await image.locator('svg').waitFor()
    assert.equal(await image.locator('.tb-node').count(), full.nodes.length)
    assert.equal(await image.locator('.tb-edge').count(), full.edges.length)
    await shot(hostP.page, 'report-host.png')
    // The verdict given in the room is in the report, with who gave it; the host changes it here.
    const reportComments = hostP.page.getByTestId('section-checks').locator('[data-testid=api-verdict][data-requirement="Users can view comments"]')
    await reportComments.getByTestId('api-override').filter({ hasText: 'host: covered · Hana' }).waitFor()
    await reportComments.getByTestId('api-verdict-not-covered').click()
    await reportComments.getByTestId('api-override').filter({ hasText: 'host: not covered · Hana' }).waitFor()
    // ...and the room follows.
    await comments(candList).getByTestId('api-override').filter({ hasText: 'host: not covered · Hana' }).waitFor()

    // Replay: jump to the loss; the tier panel shows T0 not reached, then the end shows it again.
    const jumps = hostP.page.getByTestId('jump')
    const lost = events.findIndex((e) => e.event === 'lost')
    await jumps.nth(lost).click()
    await waitFor(
      async () => (await hostP.page.getByTestId('replay-tiers').locator('li').first().innerText()).startsWith('○'),
      'T0 not reached at the loss',
    )
    await hostP.page.getByTestId('replay').scrollIntoViewIfNeeded()
    await shot(hostP.page, 'report-replay-lost.png')
    await jumps.nth(0).click()
    await waitFor(
      async () => (await hostP.page.getByTestId('replay-tiers').locator('li').first().innerText()).startsWith('✓'),
      'T0 reached at the first event',
    )
    // Play from the start at 16×: time advances.
    await hostP.page.getByTestId('speed').selectOption('16')
    const before = await hostP.page.getByTestId('replay-time').innerText()
    await hostP.page.getByTestId('play').click()
    await waitFor(async () => (await hostP.page.getByTestId('replay-time').innerText()) !== before, 'the replay to advance')
    await shot(hostP.page, 'report-replay-playing.png')

    // Markdown export.
    const [download] = await Promise.all([hostP.page.waitForEvent('download'), hostP.page.getByTestId('export-md').click()])
    const md = readFileSync(await download.path(), 'utf8')
    assert.match(md, /## Tier timeline/)
    assert.match(md, /T0 lost/)
    assert.match(md, /## Scorecard/)
    assert.match(md, /Users can view comments: not covered by the host \(Hana\).*\*\*\[host: not covered, Hana\]\*\*/)
    const embedded = /!\[The final design\]\(data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)\)/.exec(md)
    assert.ok(embedded, 'the Markdown embeds the design')
    const svg = Buffer.from(embedded[1], 'base64').toString('utf8')
    assert.equal(svg.match(/class="tb-node"/g)?.length, full.nodes.length)
    assert.equal(svg.match(/class="tb-edge"/g)?.length, full.edges.length)

    // Print view: the controls are hidden, and Chromium renders it as a PDF.
    await hostP.page.emulateMedia({ media: 'print' })
    assert.equal(await hostP.page.getByTestId('export-md').isVisible(), false)
    assert.ok(await image.locator('svg').isVisible(), 'the design prints')
    await shot(hostP.page, 'report-print.png')
    const pdf = await hostP.page.pdf({ format: 'A4' })
    assert.equal(pdf.subarray(0, 4).toString(), '%PDF')
    writeFileSync(path.join(screenshots, 'report.pdf'), pdf)
    await hostP.page.emulateMedia({ media: 'screen' })

    // The host scores one dimension and shares; the candidate's link now reads it.
    await hostP.page.getByLabel('score estimation').selectOption('3')
    await hostP.page.getByTestId('save-scorecard').click()
    await hostP.page.getByText('saved', { exact: true }).waitFor()
    await hostP.page.getByTestId('share').click()
    await hostP.page.getByTestId('share').filter({ hasText: 'Stop sharing' }).waitFor()
    await candReport.reload()
    await candReport.getByTestId('report-page').waitFor()
    assert.equal(await candReport.getByTestId('save-scorecard').count(), 0, 'the candidate cannot edit the scorecard')
    assert.equal(await candReport.getByTestId('api-override').count(), 1, 'the candidate sees the verdict')
    assert.equal(await candReport.getByTestId('api-verdict-covered').count(), 0, 'and cannot change it')
    assert.equal(await candReport.getByTestId('report-design').locator('.tb-node').count(), full.nodes.length)
    await shot(candReport, 'report-candidate-shared.png')

    assert.deepEqual(
      [...hostP.errors, ...cand.errors].filter((e) => !/Failed to load resource.*403/.test(e)),
      [],
    )
  })
})
