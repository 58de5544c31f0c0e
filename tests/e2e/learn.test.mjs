// Browser end-to-end tests of learning mode (issue 21, Acceptance): the problem in full, hints shared
// live in a room, checkpoints checked, the reference overlay with its diff, progress kept per browser,
// screenshots at desktop and phone sizes, and axe-core finding no serious violation.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { addFromPalette, axeSerious, createRoom, nodeSel, roomUrl, setup, shot, waitFor } from './harness.mjs'

const env = setup()
const DESKTOP = { width: 1440, height: 900 }
const PHONE = { width: 390, height: 844 }

/** A person at a desktop-sized window, on `url`. */
async function visit(name, url) {
  const p = await env.person(name)
  await p.page.setViewportSize(DESKTOP)
  await p.page.goto(url)
  return p
}

async function join(name, url) {
  const p = await visit(name, url)
  await p.page.waitForSelector('.react-flow__renderer')
  await p.page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
  return p
}

describe('the problem in full', () => {
  it('the accessibility check can fail: it reports a known serious violation', async () => {
    const p = await env.person('Auditor')
    await p.page.setContent('<main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><button></button></main>')
    const found = await axeSerious(p.page)
    assert.ok(found.some((v) => v.includes('image-alt')) && found.some((v) => v.includes('button-name')), found.join('\n'))
  })

  it('the classic Twitter page shows its peak-traffic estimate and its schema, on a desktop and a phone', async () => {
    const p = await visit('Reader', `${env.server.base}/problems/classic-twitter-x`)
    const { page } = p
    await page.getByRole('heading', { level: 1, name: /Twitter/ }).waitFor()
    await page.getByText('Peak traffic (3x): ~87,000 RPS').waitFor()
    // ASCII diagrams and code keep a monospaced font
    const font = await page.locator('pre', { hasText: 'Peak traffic (3x)' }).evaluate((el) => getComputedStyle(el).fontFamily)
    assert.match(font, /mono|Menlo|Consolas/i)
    const schema = page.locator('details.part', { has: page.getByRole('heading', { name: 'Database Schema' }) })
    await schema.getByText('CREATE TABLE users').first().waitFor()
    // code in a named language is highlighted with classes; diagrams and unnamed fences stay plain
    const sql = schema.locator('pre code.language-sql[data-highlighted="yes"]').first()
    await sql.waitFor()
    assert.equal(await sql.locator('.hljs-keyword', { hasText: 'CREATE TABLE' }).count(), 2)
    assert.notEqual(
      await sql
        .locator('.hljs-keyword')
        .first()
        .evaluate((el) => getComputedStyle(el).color),
      await sql.evaluate((el) => getComputedStyle(el).color),
    )
    const diagram = page.locator('pre', { hasText: 'API GATEWAY / LOAD BALANCER' }).first()
    assert.equal(await diagram.locator('span').count(), 0)
    assert.equal(await page.locator('.md [style]').count(), 0, 'no inline styles in the problem text')
    // the contents lead to a part; collapsing hides its body
    await page.getByRole('navigation', { name: /Contents/ }).getByRole('button', { name: 'API Endpoints' }).click()
    const api = page.locator('details.part[data-part*="api-endpoints"]')
    assert.equal(await api.getAttribute('open'), '')
    await api.locator('summary').click()
    assert.equal(await api.getAttribute('open'), null)
    await shot(page, 'learn-problem-1440.png')
    assert.deepEqual(await axeSerious(page), [], 'axe on the problem page')

    await page.setViewportSize(PHONE)
    await page.getByRole('heading', { level: 1 }).scrollIntoViewIfNeeded()
    await shot(page, 'learn-problem-390.png')
    // readable on a phone: nothing widens the page beyond the screen (wide blocks scroll by themselves)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a 390px phone`)
    await page.locator('pre', { hasText: 'Peak traffic (3x)' }).scrollIntoViewIfNeeded()
    await shot(page, 'learn-problem-390-estimate.png')
    assert.deepEqual(p.errors, [])
  })
})

describe('tutorial checkpoints and progress', () => {
  it('a checkpoint refuses a wrong answer with its hint, accepts the right one, and progress survives a reload', async () => {
    const p = await visit('Learner', `${env.server.base}/problems/boe-walkthrough-chat`)
    const { page } = p
    const item = page.locator('li.checkpoint', { hasText: 'With 1.5× headroom for deployments' })
    await item.scrollIntoViewIfNeeded()
    const input = item.getByRole('textbox')
    await input.fill('7500')
    await item.getByRole('button', { name: 'Check' }).click()
    await item.getByText('Not quite.').waitFor()
    await item.getByText('Hint: Peak × Headroom = 7,500 × 1.5').waitFor()
    await input.fill('11,250')
    await item.getByRole('button', { name: 'Check' }).click()
    await item.getByText('Correct: 11250.').waitFor()
    const score = page.getByTestId('checkpoint-score')
    const total = Number(/of (\d+) passed/.exec(await score.textContent())[1])
    assert.equal(await score.textContent(), `1 of ${total} passed`)
    await page.getByTestId('progress-status').filter({ hasText: 'In progress' }).waitFor()
    await shot(page, 'learn-checkpoint-1440.png')

    await page.reload()
    await page.getByTestId('checkpoint-score').filter({ hasText: `1 of ${total} passed` }).waitFor()
    await page.getByTestId('progress-status').filter({ hasText: 'In progress' }).waitFor()
    // the browser shows it under "In progress", with its ring, and what each problem offers
    await page.goto(`${env.server.base}/`)
    await page.locator('.offers').first().waitFor()
    await page.locator('.facet-item', { hasText: /^In progress1$/ }).click()
    const card = page.locator('.card', { hasText: /Back-of-the-Envelope|BoE|Chat/i })
    await card.waitFor()
    assert.equal(await page.locator('.card').count(), 1)
    await card.getByTestId('progress-ring').waitFor()
    await shot(page, 'learn-browser-progress.png')
    assert.deepEqual(p.errors, [])
  })
})

describe('a practice room', () => {
  it('reveals a hint to a second participant live, links a failing rule to it, and shows the reference with what is missing', async () => {
    const created = await createRoom(env.server.base, 'tutorial-simple-blog')
    const ann = await join('Ann', roomUrl(env.server.base, created, 'edit'))
    const ben = await join('Ben', roomUrl(env.server.base, created, 'edit'))
    await addFromPalette(ann.page, 'app')

    await ben.page.getByRole('tab', { name: 'Problem' }).click()
    await ann.page.getByRole('tab', { name: 'Problem' }).click()
    assert.equal(await ben.page.locator('.hints li').count(), 0)
    await ann.page.getByRole('button', { name: /^Show hint 1 of \d+$/ }).click()
    await waitFor(async () => (await ben.page.locator('.hints li').count()) === 1, 'the hint at Ben')
    assert.match(await ben.page.locator('.hints li').first().textContent(), /Tier 0.*revealed by Ann/s)
    await ben.page.getByRole('button', { name: /^Show hint 2 of \d+$/ }).waitFor()
    await ben.page.locator('.hints li').first().scrollIntoViewIfNeeded()
    await shot(ben.page, 'learn-room-hint-1440.png')
    assert.deepEqual(await axeSerious(ben.page, '.sidebar'), [], 'axe on the problem panel')

    // a failing tier rule links to the hint that helps with it
    await ben.page.getByRole('tab', { name: /Tiers/ }).click()
    const link = ben.page.locator('.hint-link').first()
    await link.waitFor()
    const n = Number(/Hint (\d+)/.exec(await link.textContent())[1])
    await link.click()
    await ben.page.locator('details#panel-hints[open]').waitFor()
    assert.ok(n >= 1)
    await ben.page.getByRole('tab', { name: /Tiers/ }).click()
    assert.deepEqual(await axeSerious(ben.page, '.sidebar'), [], 'axe on the tier panel')

    // the answer: a ghost overlay and what the reference has that the design lacks
    await ann.page.getByRole('tab', { name: 'Answer' }).click()
    await ann.page.getByRole('button', { name: 'Show the reference' }).click()
    await ann.page.locator('.ghost-node').first().waitFor()
    assert.ok((await ann.page.locator('.ghost-node').count()) >= 3)
    const missing = ann.page.getByTestId('diff-missing')
    await missing.getByText('Load Balancer').first().waitFor()
    await ann.page.getByTestId('simulated-figures').waitFor()
    await shot(ann.page, 'learn-room-reference-1440.png')
    assert.deepEqual(await axeSerious(ann.page, '.sidebar'), [], 'axe on the answer panel')
    // the ghost is Ann's own view: Ben's canvas has none, and the document holds only Ann's node
    assert.equal(await ben.page.getByTestId('reference-ghost').count(), 0)
    await ann.page.getByLabel('Ghost overlay on the canvas').uncheck()
    await ann.page.getByTestId('reference-ghost').waitFor({ state: 'detached' })
    assert.equal(await ann.page.locator('.react-flow__node').count(), 1)

    await ann.page.setViewportSize(PHONE)
    await ann.page.getByRole('tab', { name: 'Problem' }).click()
    await shot(ann.page, 'learn-room-390.png')
    assert.deepEqual([...ann.errors, ...ben.errors], [])
  })
})

describe('the room on a phone', () => {
  it('fits a 390 px screen: no horizontal overflow, the canvas usable, the panel opens and closes', async () => {
    const created = await createRoom(env.server.base, 'tutorial-simple-blog')
    const p = await env.person('Pia')
    const { page } = p
    await page.setViewportSize(PHONE)
    await page.goto(roomUrl(env.server.base, created, 'edit'))
    await page.waitForSelector('.react-flow__renderer')
    await page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
    await addFromPalette(page, 'app')
    await addFromPalette(page, 'lb')

    /** Pixels by which the document, or any control of the bar and the panel, passes the screen's right edge. */
    const overflow = () =>
      page.evaluate(() => {
        const doc = document.documentElement.scrollWidth - window.innerWidth
        const controls = [
          ...document.querySelectorAll('.room-bar button, .room-bar summary, .room-bar a, .room-bar label, .sidebar button'),
        ]
          .filter((el) => el.getClientRects().length > 0)
          .map((el) => Math.ceil(el.getBoundingClientRect().right - window.innerWidth))
        return Math.max(doc, ...controls)
      })
    const canvasHeight = async () => (await page.locator('.canvas').boundingBox()).height

    await page.getByRole('tab', { name: 'Problem' }).click()
    assert.ok((await overflow()) <= 0, `${await overflow()} px past the right edge with the panel open`)
    const open = await canvasHeight()
    assert.ok(open >= 250, `the canvas is ${open} px high beside the open panel`)
    // the nodes just added are on the visible part of the canvas
    const canvas = await page.locator('.canvas').boundingBox()
    const node = await page.locator(nodeSel('app')).boundingBox()
    assert.ok(node.y >= canvas.y && node.y + node.height <= canvas.y + canvas.height, 'the node is inside the canvas')
    await shot(page, 'learn-room-390-open.png')

    await page.getByRole('button', { name: 'Hide panel' }).click()
    await page.getByRole('tablist').waitFor({ state: 'hidden' })
    assert.equal(await page.getByRole('button', { name: 'Show panel' }).getAttribute('aria-expanded'), 'false')
    const closed = await canvasHeight()
    assert.ok(closed > open + 200, `closing the panel gives the canvas the screen (${open} -> ${closed} px)`)
    assert.ok((await overflow()) <= 0, 'nothing past the right edge with the panel closed')
    await shot(page, 'learn-room-390-closed.png')

    // the choice is this browser's: it survives a reload, and the panel opens again
    await page.reload()
    await page.waitForSelector('.react-flow__renderer')
    await page.getByRole('button', { name: 'Show panel' }).click()
    await page.getByRole('tab', { name: 'Tiers' }).waitFor()
    assert.equal(await page.getByRole('button', { name: 'Hide panel' }).getAttribute('aria-expanded'), 'true')

    // a menu of the bar opens across the screen, not off its edge
    await page.getByLabel('Export or import').click()
    const menu = await page.locator('.menu[open] .menu-body').boundingBox()
    assert.ok(menu.x >= 0 && menu.x + menu.width <= PHONE.width, `the menu spans ${menu.x}..${menu.x + menu.width}`)
    await shot(page, 'learn-room-390-menu.png')
    await page.keyboard.press('Escape')
    assert.ok((await overflow()) <= 0)
    // the bar and the panel (the canvas's handles are the canvas work's, issue 24)
    assert.deepEqual(await axeSerious(page, '.room-bar'), [], 'axe on the room bar at a phone width')
    assert.deepEqual(await axeSerious(page, '.sidebar'), [], 'axe on the panel at a phone width')
    assert.deepEqual(p.errors, [])
  })
})
