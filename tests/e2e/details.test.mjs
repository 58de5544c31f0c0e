// The smaller things a new user trips over (issue 24, items 7 and 8): one Ctrl+Z in the notes takes
// back a sentence, not a paragraph; a node someone else deletes while it is selected is announced; a
// viewer follows an editor's view by default and can stop.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { blogDesign } from './designs.mjs'
import { createRoom, roomUrl, setup, shot, waitFor } from './harness.mjs'

const env = setup()
const PROBLEM = 'tutorial-simple-blog'

async function enter(name, url) {
  const p = await env.person(name)
  await p.page.setViewportSize({ width: 1440, height: 900 })
  await p.page.goto(url)
  await p.page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
  return p
}

describe('smaller things', () => {
  it('undo in the notes goes back a sentence at a time', async () => {
    const ann = await enter('Ann', roomUrl(env.server.base, await createRoom(env.server.base, PROBLEM), 'edit'))
    const { page } = ann
    await page.getByRole('tab', { name: 'Notes' }).click()
    const editor = page.getByLabel('Shared notes')
    await editor.click()
    // typed without a pause: the undo manager's pause rule alone would make this one step
    await page.keyboard.type('Peak is 3x average. Cache the feed', { delay: 0 })
    // the editor's text without its placeholder
    const text = () =>
      editor.evaluate((el) =>
        [...el.querySelectorAll('.cm-line')]
          .map((l) =>
            [...l.childNodes]
              .filter((n) => !n.classList?.contains('cm-placeholder'))
              .map((n) => n.textContent)
              .join(''),
          )
          .join('\n'),
      )
    assert.equal(await text(), 'Peak is 3x average. Cache the feed')
    await page.keyboard.press('Control+z')
    await waitFor(async () => (await text()) === 'Peak is 3x average.', 'the last sentence undone')
    await page.keyboard.press('Control+z')
    await waitFor(async () => (await text()) === '', 'the first sentence undone')
    assert.deepEqual(ann.errors, [])
  })

  it('a selected node deleted by someone else is announced', async () => {
    const created = await createRoom(env.server.base, PROBLEM)
    const ann = await enter('Ann', roomUrl(env.server.base, created, 'edit'))
    await ann.page.getByLabel('Export or import').click()
    await ann.page
      .locator('input[type=file]')
      .setInputFiles({ name: 'd.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(blogDesign())) })
    const ben = await enter('Ben', roomUrl(env.server.base, created, 'edit'))
    await ben.page.locator('.react-flow__node[data-id="a"]').click()
    await ben.page.getByRole('tab', { name: 'Inspect' }).click()
    await ben.page.locator('.inspector input[value="Blog API"]').waitFor()

    await ann.page.locator('.react-flow__node[data-id="a"]').click()
    await ann.page.keyboard.press('Delete')
    await ben.page.getByRole('status').filter({ hasText: '“Blog API”, which you had selected, was deleted by someone else' }).waitFor()
    // Ann deleted it herself: no such notice for her
    assert.equal(await ann.page.getByRole('status').filter({ hasText: 'deleted by someone else' }).count(), 0)
    await shot(ben.page, 'details-deleted-notice.png')
    assert.deepEqual([...ann.errors, ...ben.errors], [])
  })

  it('a viewer follows an editor by default, and stopping sticks', async () => {
    const created = await createRoom(env.server.base, PROBLEM)
    const ann = await enter('Ann', roomUrl(env.server.base, created, 'edit'))
    const vera = await enter('Vera', roomUrl(env.server.base, created, 'view'))
    await vera.page.locator('.following-bar', { hasText: 'Following Ann' }).waitFor()
    // Ann pans: Vera's view moves with her
    const viewOf = (p) => p.page.locator('.react-flow__viewport').evaluate((el) => el.style.transform)
    const pane = await ann.page.locator('.react-flow__pane').boundingBox()
    // (a drag on the empty canvas selects with a box: the middle button pans)
    await ann.page.mouse.move(pane.x + 300, pane.y + 300)
    await ann.page.mouse.down({ button: 'middle' })
    await ann.page.mouse.move(pane.x + 200, pane.y + 250, { steps: 8 })
    await ann.page.mouse.up({ button: 'middle' })
    await waitFor(async () => (await viewOf(vera)) === (await viewOf(ann)), 'Vera sees what Ann sees')
    await shot(vera.page, 'details-viewer-follows.png')
    // Vera stops: she is not pulled back when Ann moves again
    await vera.page.locator('.following-bar').getByRole('button', { name: 'Stop' }).click()
    await ann.page.mouse.move(pane.x + 300, pane.y + 300)
    await ann.page.mouse.down({ button: 'middle' })
    await ann.page.mouse.move(pane.x + 420, pane.y + 380, { steps: 8 })
    await ann.page.mouse.up({ button: 'middle' })
    await ann.page.waitForTimeout(600)
    assert.equal(await vera.page.locator('.following-bar').count(), 0)
    assert.notEqual(await viewOf(vera), await viewOf(ann))
    assert.deepEqual([...ann.errors, ...vera.errors], [])
  })

  it('offline, a delete is not "Saved" and the tiers say they are the last results', async () => {
    const created = await createRoom(env.server.base, PROBLEM)
    const ann = await enter('Ann', roomUrl(env.server.base, created, 'edit'))
    const { page } = ann
    await page.getByLabel('Export or import').click()
    await page
      .locator('input[type=file]')
      .setInputFiles({ name: 'd.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(blogDesign())) })
    const save = page.getByTestId('save-status')
    await save.filter({ hasText: 'Saved' }).waitFor({ timeout: 15_000 })
    await page.getByTestId('tier-T0').waitFor()
    assert.equal(await page.getByTestId('tiers-stale').count(), 0)

    await ann.context.setOffline(true)
    await page.getByTestId('link-status').filter({ hasText: 'Offline' }).waitFor()
    await page.getByTestId('tiers-stale').waitFor()
    // Delete acts on the selection: click until the node is selected (a click can land while the
    // canvas re-renders for the link going offline, and a failed run pressed Delete on nothing)
    const p = page.locator('.react-flow__node[data-id="p"]')
    await waitFor(async () => {
      await p.click()
      return /\bselected\b/.test((await p.getAttribute('class')) ?? '')
    }, 'the node selected')
    await page.keyboard.press('Delete')
    await waitFor(async () => (await page.locator('.react-flow__node').count()) === 3, 'the node deleted')
    await save.filter({ hasText: 'Kept on this device' }).waitFor()
    await shot(page, 'details-offline.png')

    await ann.context.setOffline(false)
    await page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
    await save.filter({ hasText: 'Saved' }).waitFor({ timeout: 15_000 })
    await page.getByTestId('tiers-stale').waitFor({ state: 'detached' })
    // the server has the delete: a fresh visitor sees three nodes
    const ben = await enter('Ben', roomUrl(env.server.base, created, 'edit'))
    await waitFor(async () => (await ben.page.locator('.react-flow__node').count()) === 3, 'three nodes at Ben')
    assert.deepEqual(
      [...ann.errors, ...ben.errors].filter((e) => !/ERR_INTERNET_DISCONNECTED|WebSocket/.test(e)),
      [],
    )
  })
})
