// Browser end-to-end tests of the client against a real `tierboard serve` (issue 6, Acceptance).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import {
  addFromPalette,
  connect,
  createRoom,
  hoverCanvas,
  newPage,
  nodeSel,
  roomUrl,
  setup,
  shot,
  storedUpdates,
  unlabelled,
  viewSettled,
  waitFor,
} from './harness.mjs'

const PROBLEM = 'tutorial-simple-blog'
const env = setup()

async function join(name, url, opts) {
  const p = await env.person(name, opts)
  await p.page.goto(url)
  await p.page.waitForSelector('.react-flow__renderer')
  await p.page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
  return p
}

async function nodeCount(page) {
  return page.locator('.react-flow__node').count()
}

describe('problem browser', () => {
  it('search, open a problem, start a room: the palette shows exactly its available components', async () => {
    const p = await env.person('Searcher')
    const { page } = p
    await page.goto(`${env.server.base}/`)
    await page.locator('.card').first().waitFor()
    // pagination
    await page.getByRole('button', { name: /Next/ }).click()
    await page.getByText(/^Page 2 of \d+$/).waitFor()
    assert.match(page.url(), /page=2/)
    // a category facet filters to exactly its count
    const tutorial = page.locator('.facet-item', { hasText: /^tutorial\d+$/ })
    const count = Number(await tutorial.locator('.count').textContent())
    await tutorial.click()
    await page.locator('.result-count', { hasText: `${count} problem` }).waitFor()
    assert.equal(await page.locator('.card').count(), Math.min(count, 24))
    await page.locator('.facet-item', { hasText: /^All$/ }).last().click()
    await page.getByLabel('Search problems').fill('personal blog')
    const card = page.locator('.card', { hasText: 'Personal Blog' }).first()
    await card.waitFor()
    await shot(page, 'browser.png')
    // facets carry counts
    const facetCounts = await page.locator('.facet .count').allTextContents()
    assert.ok(facetCounts.length > 0 && facetCounts.every((c) => /^\d+$/.test(c)), `facet counts: ${facetCounts}`)

    await card.click()
    await page.waitForURL(`**/problems/${PROBLEM}`)
    await page.getByRole('button', { name: 'Start a room' }).waitFor()
    await shot(page, 'problem.png')
    assert.deepEqual(await unlabelled(page), [], 'every control on the problem page has an accessible name')
    await page.getByRole('button', { name: 'Start a room' }).click()
    // the creator lands with the host link (issue 22): it carries the edit and view tokens too
    await page.waitForURL(/\/r\/[A-Za-z0-9_-]+#host=/)
    await page.locator('.palette-item').first().waitFor()
    // the fragment carries the tokens; the path does not
    const url = new URL(page.url())
    assert.match(url.hash, /^#host=[A-Za-z0-9_-]+&edit=[A-Za-z0-9_-]+&view=[A-Za-z0-9_-]+$/)

    const problem = await (await fetch(`${env.server.base}/api/problems/${PROBLEM}`)).json()
    await waitFor(async () => (await page.locator('.palette-item').count()) === problem.available_components.length + 1, 'the palette to fill')
    const types = await page.locator('.palette-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')))
    assert.deepEqual(types.filter((t) => t !== 'note'), problem.available_components)
    assert.equal(types.at(-1), 'note')
    assert.deepEqual(p.errors, [])
  })
})

describe('room', () => {
  let created
  let ada
  let bob

  it('two people build T0 together: nodes, the green tier and each other’s cursor appear', async () => {
    created = await createRoom(env.server.base, PROBLEM)
    ada = await join('Ada', roomUrl(env.server.base, created, 'edit'), { dark: true })
    bob = await join('Bob', roomUrl(env.server.base, created, 'edit'))

    const t0 = (page) => page.getByTestId('tier-T0')
    assert.equal(await t0(bob.page).getAttribute('data-reached'), 'false')

    await addFromPalette(ada.page, 'client')
    await addFromPalette(ada.page, 'app')
    await addFromPalette(ada.page, 'db_primary')
    await connect(ada.page, 'client', 'app')
    await connect(ada.page, 'app', 'db_primary')
    await waitFor(async () => (await ada.page.locator('.react-flow__edge').count()) === 2, 'two edges at Ada')

    // Bob sees the nodes and edges appear, and T0 turn green
    await waitFor(async () => (await nodeCount(bob.page)) === 3, 'three nodes at Bob')
    await waitFor(async () => (await bob.page.locator('.react-flow__edge').count()) === 2, 'two edges at Bob')
    await waitFor(async () => (await t0(bob.page).getAttribute('data-reached')) === 'true', 'T0 reached at Bob')
    await waitFor(async () => (await t0(ada.page).getAttribute('data-reached')) === 'true', 'T0 reached at Ada')
    // the session timeline records it
    await waitFor(async () => (await bob.page.locator('.timeline li', { hasText: 'T0 reached' }).count()) === 1, 'T0 in Bob’s timeline')

    // each sees the other's cursor and name
    await hoverCanvas(ada.page, 430, 560)
    await hoverCanvas(bob.page, 640, 200)
    await waitFor(async () => (await bob.page.getByTestId('remote-cursor').filter({ hasText: 'Ada' }).count()) === 1, 'Ada’s cursor at Bob')
    await waitFor(async () => (await ada.page.getByTestId('remote-cursor').filter({ hasText: 'Bob' }).count()) === 1, 'Bob’s cursor at Ada')
    // and the participant list names both
    const names = await bob.page.getByTestId('participant').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')).sort())
    assert.deepEqual(names, ['Ada', 'Bob'])

    // fleet size through the inspector: Ada sets app × 8, Bob sees "× 8"
    await ada.page.locator(nodeSel('app')).click()
    await ada.page.getByRole('tab', { name: /Inspect/ }).click()
    await ada.page.getByLabel(/^instances/).fill('8')
    await waitFor(async () => (await bob.page.locator(`${nodeSel('app')} .tb-node-count`).textContent())?.includes('8'), '× 8 at Bob')
    await ada.page.getByRole('tab', { name: /Tiers/ }).click()

    // the saved indicator follows the server's `saved` message
    await waitFor(async () => (await ada.page.getByTestId('save-status').textContent()).includes('Saved'), 'Saved at Ada')

    // clicking a rule highlights its nodes
    await bob.page.getByTestId('tier-T0').getByRole('button', { name: /Must include: app/ }).click()
    await waitFor(async () => (await bob.page.locator(`${nodeSel('app')} .tb-node.highlight`).count()) === 1, 'highlight at Bob')
    await shot(bob.page, 'room.png')
    await shot(ada.page, 'room-dark.png')
    assert.equal(await ada.page.evaluate(() => document.documentElement.dataset.theme), 'dark')
    assert.deepEqual(await unlabelled(bob.page), [], 'every control in the room has an accessible name')
    await bob.page.getByTestId('tier-T0').getByRole('button', { name: /Must include: app/ }).click()
    assert.deepEqual([...ada.errors, ...bob.errors], [])
  })

  it('a view link shows the design read-only', async () => {
    // the view link as the Share menu gives it: the view token only, in the fragment
    await ada.page.locator('summary', { hasText: 'Share' }).click()
    const viewUrl = await ada.page.getByLabel('View link').inputValue()
    const editUrl = await ada.page.getByLabel('Edit link').inputValue()
    await ada.page.keyboard.press('Escape')
    assert.equal(viewUrl, roomUrl(env.server.base, created, 'view'))
    assert.equal(editUrl, roomUrl(env.server.base, created, 'edit'))
    assert.doesNotMatch(viewUrl, /edit=/)
    const viewer = await join('Vera', viewUrl)
    const { page } = viewer
    await waitFor(async () => (await nodeCount(page)) === 3, 'three nodes at the viewer')
    await page.getByTestId('read-only').waitFor()
    assert.equal(await page.locator('.palette').count(), 0, 'no palette')
    assert.equal(await page.getByRole('button', { name: 'Undo' }).count(), 0, 'no undo')
    assert.equal(await page.locator('.react-flow__handle').evaluateAll((els) => els.filter((e) => getComputedStyle(e).visibility !== 'hidden').length), 0)

    const app = page.locator(nodeSel('app'))
    // the node's position in flow coordinates (dragging the pane pans the view, which is allowed)
    const flowPos = () => app.evaluate((el) => el.style.transform)
    const before = await flowPos()
    const adaPos = () => ada.page.locator(nodeSel('app')).evaluate((el) => el.style.transform)
    const adaBefore = await adaPos()
    const box = await app.boundingBox()
    await page.mouse.move(box.x + 60, box.y + 20)
    await page.mouse.down()
    await page.mouse.move(box.x + 260, box.y + 220, { steps: 8 })
    await page.mouse.up()
    assert.equal(await flowPos(), before, 'the node did not move')
    // try to delete it
    await app.click()
    await page.keyboard.press('Delete')
    await page.keyboard.press('Backspace')
    // the inspector is read-only (opening it also renders whatever the keys did)
    await page.getByRole('tab', { name: /Inspect/ }).click()
    await page.getByLabel(/^instances/).waitFor()
    assert.equal(await nodeCount(page), 3)
    assert.equal(await page.getByLabel(/^instances/).getAttribute('readonly'), '')
    assert.equal(await page.getByRole('button', { name: 'Delete' }).count(), 0)
    // nothing changed for the editors either: the viewer's cursor moves after the attempts, on the same
    // socket, so once Ada sees it move she has had anything those attempts could have sent
    const veraAtAda = ada.page.getByTestId('remote-cursor').filter({ hasText: 'Vera' })
    // one read of the page: with `count()` then `evaluate()` a cursor that went between the two left
    // `evaluate` waiting its 30 s for an element that was gone (a failed run, 2026-12-05)
    const cursorAt = async () => veraAtAda.evaluateAll((els) => (els.length === 1 ? els[0].style.transform : null))
    const cursorBefore = await cursorAt()
    await hoverCanvas(page, 430, 560)
    await waitFor(async () => {
      const now = await cursorAt()
      return now !== null && now !== cursorBefore
    }, 'Vera’s cursor to move at Ada')
    assert.equal(await nodeCount(ada.page), 3)
    assert.equal(await adaPos(), adaBefore)
    await page.keyboard.press('f')
    await viewSettled(page)
    await shot(page, 'room-view.png')
    assert.deepEqual(viewer.errors, [])
  })

  it('edits made offline reach the others after reconnecting', async () => {
    await bob.context.setOffline(true)
    await waitFor(async () => (await bob.page.getByTestId('link-status').textContent()) === 'Offline', 'Bob offline')
    await addFromPalette(bob.page, 'lb')
    await addFromPalette(bob.page, 'db_replica')
    // A window in which a leak would show: proving an absence takes time, so this wait is the point.
    await bob.page.waitForTimeout(800)
    assert.equal(await ada.page.locator(nodeSel('lb')).count(), 0, 'Ada cannot see offline edits yet')
    assert.match(await bob.page.getByTestId('save-status').textContent(), /Kept on this device/)

    await bob.context.setOffline(false)
    await waitFor(async () => (await bob.page.getByTestId('link-status').textContent()) === 'Connected', 'Bob back online', 20_000)
    await waitFor(async () => (await ada.page.locator(nodeSel('lb')).count()) === 1, 'Bob’s lb at Ada', 15_000)
    await waitFor(async () => (await ada.page.locator(nodeSel('db_replica')).count()) === 1, 'Bob’s replica at Ada')
    await waitFor(async () => (await bob.page.getByTestId('save-status').textContent()).includes('Saved'), 'Bob saved')

    // edits made offline survive closing the tab: IndexedDB keeps them until the next visit
    const url = bob.page.url()
    await bob.context.setOffline(true)
    await waitFor(async () => (await bob.page.getByTestId('link-status').textContent()) === 'Offline', 'Bob offline again')
    const stored = await storedUpdates(bob.page, created.room)
    await addFromPalette(bob.page, 'client')
    // y-indexeddb writes asynchronously: wait until the offline copy holds the new node's update
    await waitFor(async () => (await storedUpdates(bob.page, created.room)) > stored, 'the offline copy to hold the new node')
    await bob.page.close()
    await bob.context.setOffline(false)
    assert.equal(await ada.page.locator(nodeSel('client')).count(), 1, 'only Ada’s client so far')
    await newPage(bob)
    await bob.page.goto(url)
    await waitFor(async () => (await ada.page.locator(nodeSel('client')).count()) === 2, 'Bob’s stored client at Ada', 15_000)
    await bob.page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor()
    assert.deepEqual([...ada.errors, ...bob.errors], [])
  })

  it('undo reverts only one’s own change', async () => {
    await addFromPalette(ada.page, 'db_replica')
    await waitFor(async () => (await bob.page.locator(nodeSel('db_replica')).count()) === 2, 'second replica at Bob')
    await ada.page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } })
    await ada.page.getByRole('button', { name: 'Undo' }).click()
    await waitFor(async () => (await bob.page.locator(nodeSel('db_replica')).count()) === 1, 'Ada’s replica undone at Bob')
    // Bob's own replica (added offline) is still there
    assert.equal(await ada.page.locator(nodeSel('lb')).count(), 1)
  })

  it('a drag is seen live by the others, lands exactly and undoes as one step', async () => {
    // issue 24, item 9: a drag's moves go to React Flow's store, and to the document every 40 ms
    const pos = (page) => page.locator(nodeSel('app')).first().evaluate((el) => el.style.transform)
    const start = await pos(ada.page)
    await waitFor(async () => (await pos(bob.page)) === start, 'the same place at Bob')
    const box = await ada.page.locator(nodeSel('app')).first().boundingBox()
    let x = box.x + box.width / 2
    let y = box.y + box.height / 2
    await ada.page.mouse.move(x, y)
    await ada.page.mouse.down()
    await ada.page.mouse.move(x + 60, y + 40, { steps: 6 })
    x += 60
    y += 40
    // the button still held (and the pointer still moving: a pause would end the undo step), Bob
    // sees the node on its way
    await waitFor(async () => {
      x += 2
      await ada.page.mouse.move(x, y)
      return (await pos(bob.page)) !== start
    }, 'the node moving at Bob during the drag')
    await ada.page.mouse.move(x + 90, y + 50, { steps: 6 })
    await ada.page.mouse.up()
    const end = await pos(ada.page)
    assert.notEqual(end, start)
    await waitFor(async () => (await pos(bob.page)) === end, 'the exact final place at Bob')
    await ada.page.getByRole('button', { name: 'Undo' }).click()
    await waitFor(async () => (await pos(ada.page)) === start && (await pos(bob.page)) === start, 'one undo puts it back at both')
    assert.deepEqual([...ada.errors, ...bob.errors], [])
  })

  it('drag from the palette, duplicate and delete by keyboard, shared notes, following a participant', async () => {
    // drag a note from the palette onto the canvas
    const notes = (page) => page.locator('.react-flow__node-note')
    const before = await notes(bob.page).count()
    await ada.page.locator('.palette-item[data-type="note"]').dragTo(ada.page.locator('.react-flow__pane'), { targetPosition: { x: 300, y: 420 } })
    await waitFor(async () => (await notes(bob.page).count()) === before + 1, 'the dropped note at Bob')
    // write in it in place
    await notes(ada.page).last().dblclick()
    await ada.page.getByLabel('Note text').fill('CDN later?')
    await ada.page.keyboard.press('Escape')
    await waitFor(async () => (await notes(bob.page).last().textContent()) === 'CDN later?', 'the note text at Bob')

    // Ctrl+D duplicates the selection, Delete removes it
    await notes(ada.page).last().click()
    const original = await notes(ada.page).last().getAttribute('data-id')
    await ada.page.keyboard.press('Control+d')
    await waitFor(async () => (await notes(bob.page).count()) === before + 2, 'the duplicate at Bob')
    // the copy, not the original, is what is selected now (so Delete removes the copy)
    const selected = ada.page.locator('.react-flow__node-note.selected')
    await waitFor(async () => (await selected.count()) === 1 && (await selected.getAttribute('data-id')) !== original, 'the copy selected at Ada')
    await ada.page.keyboard.press('Delete')
    await waitFor(async () => (await notes(bob.page).count()) === before + 1, 'the deletion at Bob')
    assert.equal(await bob.page.locator(`.react-flow__node-note[data-id="${original}"]`).count(), 1, 'the original note stays')

    // multi-select: Ctrl+A selects every node; Escape clears
    await ada.page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } })
    await ada.page.keyboard.press('Control+a')
    const total = await ada.page.locator('.react-flow__node').count()
    await ada.page.locator('.selection-bar', { hasText: `${total} selected` }).waitFor()
    await ada.page.keyboard.press('Escape')
    await ada.page.locator('.selection-bar').waitFor({ state: 'detached' })
    // shift-click adds to the selection
    await ada.page.keyboard.press('f')
    await viewSettled(ada.page)
    await ada.page.locator(nodeSel('app')).click()
    await ada.page.locator(nodeSel('db_primary')).click({ modifiers: ['Shift'] })
    await ada.page.locator('.selection-bar', { hasText: '2 selected' }).waitFor()
    await ada.page.keyboard.press('Escape')

    // the notes pad is shared, with the other's caret
    await ada.page.getByRole('tab', { name: 'Notes' }).click()
    await bob.page.getByRole('tab', { name: 'Notes' }).click()
    await ada.page.getByLabel('Shared notes').click()
    await ada.page.keyboard.type('Reads 900 qps, writes 100 qps')
    await waitFor(async () => (await bob.page.getByLabel('Shared notes').textContent()).includes('Reads 900 qps, writes 100 qps'), 'the notes at Bob')
    await waitFor(async () => (await bob.page.locator('.cm-ySelectionInfo', { hasText: 'Ada' }).count()) === 1, 'Ada’s caret in Bob’s notes')
    // the canvas cursor field is not clobbered by the notes caret
    await hoverCanvas(ada.page, 430, 560)
    await waitFor(async () => (await bob.page.getByTestId('remote-cursor').filter({ hasText: 'Ada' }).count()) === 1, 'Ada’s canvas cursor')

    // the problem panel reveals hints one at a time
    await bob.page.getByRole('tab', { name: 'Problem' }).click()
    const hints = bob.page.locator('.hints li')
    assert.equal(await hints.count(), 0)
    await bob.page.getByRole('button', { name: /^Show hint 1 of \d+$/ }).click()
    assert.equal(await hints.count(), 1)
    await bob.page.getByRole('button', { name: /^Show hint 2 of \d+$/ }).click()
    assert.equal(await hints.count(), 2)
    assert.match(await hints.first().textContent(), /Tier 0/)

    // Bob follows Ada: Ada's zoom and pan become Bob's
    await bob.page.getByRole('button', { name: 'Follow Ada' }).click()
    await ada.page.getByRole('button', { name: /zoom in/i }).click()
    await ada.page.getByRole('button', { name: /zoom in/i }).click()
    const vp = (page) => page.locator('.react-flow__viewport').evaluate((el) => el.style.transform)
    await waitFor(async () => (await vp(bob.page)) === (await vp(ada.page)), 'Bob’s view to follow Ada’s', 10_000)
    await bob.page.getByRole('button', { name: 'Stop following Ada' }).click()
    await shot(bob.page, 'room-notes.png')
    assert.deepEqual([...ada.errors, ...bob.errors], [])
  })

  it('a link with a wrong token says so and shows nothing of the room', async () => {
    const p = await env.person('Mallory')
    await p.page.goto(`${env.server.base}/r/${created.room}#edit=AAAAAAAAAAAAAAAAAAAAAA`)
    await p.page.getByRole('alert').filter({ hasText: 'Cannot open this room' }).waitFor()
    assert.equal(await p.page.locator('.react-flow__node').count(), 0)
    await p.page.goto(`${env.server.base}/r/${created.room}`)
    await p.page.getByRole('alert').filter({ hasText: 'no access token' }).waitFor()
  })
})
