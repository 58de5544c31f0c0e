// Rooms you can find again (issue 24, item 2): the landing page lists the rooms this browser has been
// in (problem, role, last visit, tiers reached), opens them again with their link, forgets them on
// request; and the problem statement opens beside the canvas or in a new tab, never instead of it.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { blogDesign } from './designs.mjs'
import { axeSerious, createRoom, roomUrl, setup, shot, waitFor } from './harness.mjs'

const env = setup()
const PROBLEM = 'tutorial-simple-blog'
// T0 and T1 of the blog tutorial
const DESIGN = blogDesign()

async function enter(page, url) {
  await page.goto(url)
  await page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
  await page.locator('.palette-item, .react-flow__renderer').first().waitFor()
  // the room is remembered with its title once the problem has loaded: wait for it, or a loaded
  // machine leaves before the title is known and the card says "Untitled room"
  await page.locator('.room-title-open').waitFor({ timeout: 15_000 })
}

describe('your rooms', () => {
  it('lists the rooms this browser was in, opens one again with its link, and forgets one', async () => {
    const blog = await createRoom(env.server.base, PROBLEM)
    const other = await createRoom(env.server.base, 'classic-twitter-x')
    const p = await env.person('Ann')
    const { page } = p
    await page.setViewportSize({ width: 1440, height: 900 })

    // a first visit: nothing listed yet
    await page.goto(`${env.server.base}/`)
    await page.locator('.card').first().waitFor()
    assert.equal(await page.getByRole('heading', { name: 'Your rooms' }).count(), 0)
    // the classic interview questions come first, on the unfiltered page only (issue 24, item 5)
    const shelf = page.getByRole('region', { name: 'Popular interview questions' })
    await shelf.getByRole('link', { name: /Design Twitter\/X/ }).waitFor()
    assert.equal(await shelf.getByRole('link').count(), 15)
    await page.getByLabel('Search problems').fill('rate limiter')
    await shelf.waitFor({ state: 'detached' })
    await page.goto(`${env.server.base}/`)

    // build in the blog room up to two tiers
    const editUrl = roomUrl(env.server.base, blog, 'edit')
    await enter(page, editUrl)
    await page.getByLabel('Export or import').click()
    await page.locator('input[type=file]').setInputFiles({
      name: 'd.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(DESIGN)),
    })
    await page.getByTestId('tier-T1').and(page.locator('[data-reached="true"]')).waitFor({ timeout: 15_000 })

    // the problem statement opens beside the canvas, not instead of the room
    await page.getByRole('tab', { name: /Tiers/ }).click()
    await page.locator('.room-title-open').click()
    await page.getByRole('tab', { name: 'Problem', selected: true }).waitFor()
    assert.equal(page.url(), editUrl)
    const tab = page.getByRole('link', {
      name: 'Open the problem page in a new tab',
    })
    assert.equal(await tab.getAttribute('target'), '_blank')
    assert.equal(await tab.getAttribute('href'), `/problems/${PROBLEM}`)

    // a view-only visit of another room
    await enter(page, roomUrl(env.server.base, other, 'view'))

    // the landing page lists both, newest first, with role, tiers and last visit
    await page.goto(`${env.server.base}/`)
    const cards = page.getByTestId('your-room')
    await waitFor(async () => (await cards.count()) === 2, 'two rooms listed')
    const [first, second] = [cards.nth(0), cards.nth(1)]
    assert.equal(await first.getAttribute('data-room'), other.room)
    assert.match(await first.textContent(), /Design Twitter\/X.*View only.*just now/s)
    assert.equal(await second.getAttribute('data-room'), blog.room)
    assert.match(await second.textContent(), /Tutorial 1: Personal Blog Platform.*Editor/s)
    // the tier count comes from the problem itself (the bank may add tiers; the design reaches two)
    const tiers = (await (await fetch(`${env.server.base}/api/problems/${PROBLEM}`)).json()).tiers.length
    assert.equal(await second.getByTestId('your-room-tiers').textContent(), `2 of ${tiers} tiers`)
    await shot(page, 'your-rooms-1440.png')
    assert.deepEqual(await axeSerious(page), [], 'axe on the landing page with its rooms')

    // leave and return: the card opens the room again as an editor, with the design
    await second.getByRole('link').click()
    await page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
    assert.equal(page.url(), editUrl)
    await waitFor(async () => (await page.locator('.react-flow__node').count()) === 4, 'the design is back')
    assert.equal(await page.getByTestId('read-only').count(), 0)

    // forget the view-only room: the list survives a reload without it
    await page.goto(`${env.server.base}/`)
    await cards.first().waitFor()
    await page.getByRole('button', { name: /^Forget Design Twitter\/X/ }).click()
    await waitFor(async () => (await cards.count()) === 1, 'one room left')
    await page.reload()
    await cards.first().waitFor()
    assert.equal(await cards.count(), 1)
    assert.equal(await cards.first().getAttribute('data-room'), blog.room)
    // the blog room is now the newest visit
    assert.match(await cards.first().textContent(), /just now/)

    await page.setViewportSize({ width: 390, height: 844 })
    await shot(page, 'your-rooms-390.png')
    assert.ok(
      (await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) <= 0,
      'no horizontal overflow at 390 px',
    )
    assert.deepEqual(p.errors, [])
  })
})

describe('viewers and identity', () => {
  it('marks who only views, hides what a viewer cannot use, keeps colours across reloads, renames', async () => {
    const created = await createRoom(env.server.base, PROBLEM)
    const ann = await env.person('Ann')
    const vera = await env.person('Vera')
    // two different colours, so that neither gives way to the other (a shared colour would)
    await ann.context.addInitScript(() => localStorage.setItem('tierboard.color', '#1d4ed8'))
    await vera.context.addInitScript(() => localStorage.setItem('tierboard.color', '#15803d'))
    await enter(ann.page, roomUrl(env.server.base, created, 'edit'))
    await enter(vera.page, roomUrl(env.server.base, created, 'view'))

    // Ann sees that Vera only views; Vera has no Snap toggle and is told the notes are read-only
    const veraAtAnn = ann.page.getByTestId('participant').and(ann.page.locator('[data-name="Vera"]'))
    await veraAtAnn.and(ann.page.locator('[data-role="view"]')).waitFor()
    assert.match(await veraAtAnn.textContent(), /Follow Vera, view only/)
    assert.equal(await vera.page.getByLabel('Snap to grid').count(), 0)
    assert.equal(await vera.page.locator('.toggle', { hasText: 'Snap' }).count(), 0)
    await vera.page.getByRole('tab', { name: 'Notes' }).click()
    await vera.page.getByText('View only: you can read the notes but not change them').waitFor()

    // Ann's colour at Vera's is the same after Ann reloads
    const annAtVera = vera.page.getByTestId('participant').and(vera.page.locator('[data-name="Ann"]'))
    await annAtVera.waitFor()
    const colour = await annAtVera.evaluate((el) => el.style.background)
    await ann.page.reload()
    await ann.page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
    await waitFor(
      async () => (await annAtVera.count()) === 1 && (await annAtVera.evaluate((el) => el.style.background)) === colour,
      'the same colour after a reload',
    )
    assert.match(colour, /rgb\(29, 78, 216\)/, 'Ann keeps her browser’s colour')

    // Ann renames herself from her own avatar; Vera sees the new name
    await ann.page.getByRole('button', { name: /^Ann \(you\): change your name/ }).click()
    const dialog = ann.page.getByRole('dialog', { name: 'Change your name' })
    await dialog.getByLabel('Your display name').fill('Ann Lee')
    await dialog.getByRole('button', { name: 'Save' }).click()
    await vera.page.getByTestId('participant').and(vera.page.locator('[data-name="Ann Lee"]')).waitFor()
    await shot(vera.page, 'identity-viewer.png')
    assert.deepEqual(await axeSerious(vera.page, '.room-bar'), [], 'axe on the viewer’s bar')
    assert.deepEqual([...ann.errors, ...vera.errors], [])
  })

  it('two browsers with the same colour show different ones in the room', async () => {
    const created = await createRoom(env.server.base, PROBLEM)
    const cy = await env.person('Cy')
    const dee = await env.person('Dee')
    for (const p of [cy, dee]) await p.context.addInitScript(() => localStorage.setItem('tierboard.color', '#be123c'))
    await enter(cy.page, roomUrl(env.server.base, created, 'edit'))
    await enter(dee.page, roomUrl(env.server.base, created, 'edit'))
    for (const p of [cy, dee]) {
      const avatars = p.page.getByTestId('participant')
      await waitFor(async () => {
        if ((await avatars.count()) !== 2) return false
        const colours = await avatars.evaluateAll((els) => els.map((el) => el.style.background))
        return colours[0] !== colours[1]
      }, `two colours at ${p.name}`)
    }
    assert.deepEqual([...cy.errors, ...dee.errors], [])
  })
})
