// Placing and connecting (issue 24, item 3), as a new user does it: drops stay where they land,
// a connection starts from any side and ends anywhere on the other node, an edge to a node on the
// left does not loop, a moved node snaps to others with a guide, a drag on the canvas selects with a
// box (Space, the middle button or the hand tool pan),
// align lines nodes up, and copy and paste carry nodes with their edges into another room.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { addFromPalette, axeSerious, createRoom, newPage, nodeSel, roomUrl, setup, shot, waitFor } from './harness.mjs'

const env = setup()
const PROBLEM = 'tutorial-simple-blog'

async function enter(page, url) {
  await page.setViewportSize({ width: 1440, height: 900 })
  await page.goto(url)
  await page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
  await page.locator('.palette-item').first().waitFor()
}

const transform = (page) => page.locator('.react-flow__viewport').evaluate((el) => el.style.transform)
const center = (b) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 })
/** A node's position in flow coordinates, from React Flow's transform of it. */
const flowPos = (page, type) =>
  page
    .locator(nodeSel(type))
    .evaluate((el) => el.style.transform)
    .then((t) => {
      const [x, y] = /translate\(([-\d.]+)px, ([-\d.]+)px\)/.exec(t).slice(1).map(Number)
      return { x, y }
    })

async function designOf(page) {
  const details = page.locator('details', {
    has: page.locator('summary', { hasText: 'Export' }),
  })
  if (!(await details.evaluate((d) => d.open))) await details.locator('summary').click()
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Design JSON', exact: true }).click()])
  return JSON.parse(readFileSync(await d.path(), 'utf8'))
}

/**
 * Drags with the mouse in steps, as a hand does. A node drag starts on the first move past React
 * Flow's threshold and counts from there: a 2 px nudge starts it, so the node then follows the
 * pointer to within those 2 px.
 */
async function drag(page, from, to, steps = 12) {
  await page.mouse.move(from.x, from.y)
  await page.mouse.down()
  await page.mouse.move(from.x, from.y + 2)
  for (let i = 1; i <= steps; i++) await page.mouse.move(from.x + ((to.x - from.x) * i) / steps, from.y + ((to.y - from.y) * i) / steps)
}

describe('placing and connecting', () => {
  it('drops stay put; connections start on any side, end on a body and do not loop', async () => {
    const p = await env.person('Ann')
    const { page } = p
    await enter(page, roomUrl(env.server.base, await createRoom(env.server.base, PROBLEM), 'edit'))
    const view = await transform(page)

    // the first drop lands under the pointer and the view does not move to it
    const pane = page.locator('.react-flow__pane')
    await page.locator('.palette-item[data-type="app"]').dragTo(pane, { targetPosition: { x: 700, y: 250 } })
    await page.locator(nodeSel('app')).waitFor()
    await page.waitForTimeout(300)
    assert.equal(await transform(page), view, 'the view did not jump to the first node')
    const paneBox = await pane.boundingBox()
    const app = center(await page.locator(nodeSel('app')).boundingBox())
    assert.ok(
      Math.abs(app.x - (paneBox.x + 700)) < 40 && Math.abs(app.y - (paneBox.y + 250)) < 20,
      `the node is under the drop point (${app.x},${app.y})`,
    )
    // a second drop, to the left and below, lands where dropped too
    await page.locator('.palette-item[data-type="db_primary"]').dragTo(pane, { targetPosition: { x: 250, y: 520 } })
    await page.locator(nodeSel('db_primary')).waitFor()
    assert.equal(await transform(page), view)

    // from the app's left handle, dropped on the middle of the database's body: app → database
    // (handles appear on the node under the pointer)
    await page.locator(nodeSel('app')).hover()
    const left = await page.locator(`${nodeSel('app')} .react-flow__handle-left`).boundingBox()
    const dbBody = center(await page.locator(nodeSel('db_primary')).boundingBox())
    await drag(page, center(left), dbBody)
    await page.mouse.up()
    await waitFor(async () => (await page.locator('.react-flow__edge').count()) === 1, 'an edge')
    let design = await designOf(page)
    const id = (type) => design.nodes.find((n) => n.type === type).id
    assert.deepEqual(
      design.edges.map((e) => [e.from, e.to]),
      [[id('app'), id('db_primary')]],
    )
    // the edge runs between the nodes: no loop round the right of the app or the left of the database
    const appBox = await page.locator(nodeSel('app')).boundingBox()
    const dbBox = await page.locator(nodeSel('db_primary')).boundingBox()
    const edge = await page.locator('.react-flow__edge-path').first().boundingBox()
    assert.ok(
      edge.x >= dbBox.x - 2 && edge.x + edge.width <= appBox.x + appBox.width + 2,
      `edge ${JSON.stringify(edge)} between ${dbBox.x} and ${appBox.x + appBox.width}`,
    )

    // from the database's top handle onto the app's body: database → app
    await page.locator(nodeSel('db_primary')).hover()
    const top = await page.locator(`${nodeSel('db_primary')} .react-flow__handle-top`).boundingBox()
    await drag(page, center(top), center(appBox))
    await shot(page, 'canvas-connecting.png')
    await page.mouse.up()
    await waitFor(async () => (await page.locator('.react-flow__edge').count()) === 2, 'a second edge')
    design = await designOf(page)
    assert.ok(design.edges.some((e) => e.from === id('db_primary') && e.to === id('app')))
    await shot(page, 'canvas-connected.png')
    assert.deepEqual(await axeSerious(page), [], 'axe on the whole room, canvas included')

    // everything is reachable with the keyboard: the bar, the palette, the nodes, the panel's tabs
    await page.locator('body').click({ position: { x: 5, y: 5 } })
    const reached = new Set()
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab')
      reached.add(
        await page.evaluate(() => {
          const el = document.activeElement
          if (el.closest('.palette')) return 'palette'
          if (el.classList.contains('react-flow__node')) return 'node'
          if (el.closest('.room-bar summary')) return `menu:${el.textContent}`
          if (el.getAttribute('role') === 'tab') return 'tab'
          if (el.classList.contains('panel-toggle')) return 'panel-toggle'
          return 'other'
        }),
      )
    }
    for (const want of ['palette', 'node', 'menu:Export', 'menu:Share', 'tab', 'panel-toggle'])
      assert.ok(reached.has(want), `Tab reaches ${want}: ${[...reached]}`)
    assert.deepEqual(p.errors, [])
  })

  it('a moved node snaps into line with a guide; a box selects; align and paste into another room', async () => {
    const p = await env.person('Bea')
    const { page } = p
    const created = await createRoom(env.server.base, PROBLEM)
    await enter(page, roomUrl(env.server.base, created, 'edit'))
    const pane = page.locator('.react-flow__pane')
    await page.locator('.palette-item[data-type="app"]').dragTo(pane, { targetPosition: { x: 300, y: 200 } })
    await page.locator('.palette-item[data-type="lb"]').dragTo(pane, { targetPosition: { x: 700, y: 420 } })
    await page.locator(nodeSel('lb')).waitFor()

    // drag the load balancer up to 3 px below the app's top: a guide shows and it lands level
    const appPos = await flowPos(page, 'app')
    const lbBox = await page.locator(nodeSel('lb')).boundingBox()
    const lbPos = await flowPos(page, 'lb')
    const from = center(lbBox)
    await drag(page, from, { x: from.x, y: from.y - (lbPos.y - appPos.y) + 3 })
    await page.getByTestId('alignment-guide').first().waitFor()
    await shot(page, 'canvas-guide.png')
    await page.mouse.up()
    await page.getByTestId('alignment-guide').first().waitFor({ state: 'detached' })
    assert.equal((await flowPos(page, 'lb')).y, appPos.y, 'the node snapped level with the other')

    // move it back down, then Shift-drag a box around both and align their tops
    await drag(page, center(await page.locator(nodeSel('lb')).boundingBox()), {
      x: from.x,
      y: from.y + 60,
    })
    await page.mouse.up()
    assert.notEqual((await flowPos(page, 'lb')).y, appPos.y)
    const paneBox = await pane.boundingBox()
    await page.keyboard.down('Shift')
    await drag(page, { x: paneBox.x + 60, y: paneBox.y + 40 }, { x: paneBox.x + paneBox.width - 40, y: paneBox.y + paneBox.height - 40 })
    await page.mouse.up()
    await page.keyboard.up('Shift')
    await page.getByRole('toolbar', { name: 'Selection' }).getByText('2 selected').waitFor()
    await page.getByRole('button', { name: 'Align tops' }).click()
    await waitFor(async () => (await flowPos(page, 'lb')).y === (await flowPos(page, 'app')).y, 'tops aligned')

    // connect them, then copy both and paste into another room, edges included
    await page.keyboard.press('Escape')
    await page.locator('.react-flow__nodesselection-rect').waitFor({ state: 'detached' })
    await page.locator(nodeSel('app')).hover()
    const appHandle = await page.locator(`${nodeSel('app')} .react-flow__handle-right`).boundingBox()
    await drag(page, center(appHandle), center(await page.locator(nodeSel('lb')).boundingBox()))
    await page.mouse.up()
    await waitFor(async () => (await page.locator('.react-flow__edge').count()) === 1, 'an edge')
    await page.locator('.react-flow__pane').click({ position: { x: 40, y: 40 } })
    await page.keyboard.press('Control+a')
    await page.keyboard.press('Control+c')

    const other = await createRoom(env.server.base, PROBLEM)
    const tab = await newPage(p)
    await enter(tab, roomUrl(env.server.base, other, 'edit'))
    await tab.mouse.move(700, 500)
    await tab.keyboard.press('Control+v')
    await tab.getByRole('status').filter({ hasText: 'Pasted 2 components' }).waitFor()
    await waitFor(
      async () => (await tab.locator('.react-flow__node').count()) === 2 && (await tab.locator('.react-flow__edge').count()) === 1,
      'the copy with its edge',
    )
    // pasted where the pointer is, and selected
    const pasted = await tab.locator('.react-flow__node.selected').count()
    assert.equal(pasted, 2)
    const inOther = await designOf(tab)
    const mine = await designOf(page)
    assert.equal(inOther.nodes.filter((n) => mine.nodes.some((m) => m.id === n.id)).length, 0, 'the copies have their own ids')
    await shot(tab, 'canvas-pasted.png')
    assert.deepEqual(p.errors, [])
  })

  it('selecting keeps the tiers in view; the inspector opens when asked (issue 24, item 4)', async () => {
    const p = await env.person('Ivy')
    const { page } = p
    await enter(page, roomUrl(env.server.base, await createRoom(env.server.base, PROBLEM), 'edit'))
    const tiersTab = page.getByRole('tab', { name: /Tiers/ })
    const inspectTab = page.getByRole('tab', { name: /Inspect/ })
    await addFromPalette(page, 'app')
    await page.getByTestId('tier-T0').waitFor()
    // a failing rule that names the node marks it on the canvas, with the legend saying what it means
    const tag = page.locator(nodeSel('app')).getByTestId('rule-tag')
    await tag.waitFor()
    assert.match(await tag.textContent(), /^✗ T\d+$/)
    assert.ok((await tag.getAttribute('title')).startsWith('Fails:\n'), 'the tag lists the rules it fails')
    await page.getByTestId('legend-rules').waitFor()

    // selecting a node does not switch the panel away from the tiers
    await page.locator(nodeSel('app')).click()
    await page.getByRole('toolbar', { name: 'Selection' }).getByText('1 selected').waitFor()
    assert.equal(await tiersTab.getAttribute('aria-selected'), 'true', 'the Tiers tab stays selected')
    assert.equal(await inspectTab.getAttribute('aria-selected'), 'false')
    assert.equal(await page.getByTestId('tier-T0').isVisible(), true, 'the tiers stay on screen')
    assert.equal(await page.getByTestId('tier-strip').count(), 0, 'no strip over the Tiers tab itself')

    // asking for it: the selection bar's Inspect opens the inspector, with the tiers as a strip above
    await page.getByRole('toolbar', { name: 'Selection' }).getByRole('button', { name: 'Inspect' }).click()
    assert.equal(await inspectTab.getAttribute('aria-selected'), 'true')
    await page.getByLabel(/^instances/).waitFor()
    const strip = page.getByTestId('tier-strip')
    await strip.waitFor()
    const reached = await page.getByRole('tab', { name: /Tiers/ }).locator('.badge').textContent()
    assert.equal((await strip.locator('.tier-strip-count').textContent()).trim(), reached.trim(), 'the strip agrees with the tab badge')
    assert.ok((await strip.locator('.tier-strip-tier').count()) >= 2, 'one mark per tier')
    await shot(page, 'canvas-inspect-strip.png')

    // selecting another node keeps the inspector (the user's choice), and the strip leads back
    await addFromPalette(page, 'client')
    await page.locator(nodeSel('client')).click()
    assert.equal(await inspectTab.getAttribute('aria-selected'), 'true', 'the chosen tab stays')
    await strip.click()
    assert.equal(await tiersTab.getAttribute('aria-selected'), 'true')
    await page.getByTestId('tier-T0').waitFor()
    assert.deepEqual(p.errors, [])
  })

  it('a drag on the empty canvas selects with a box; Space, the middle button and the hand tool pan', async () => {
    const p = await env.person('Cy')
    const { page } = p
    await enter(page, roomUrl(env.server.base, await createRoom(env.server.base, PROBLEM), 'edit'))
    const pane = page.locator('.react-flow__pane')
    await page.locator('.palette-item[data-type="app"]').dragTo(pane, { targetPosition: { x: 300, y: 200 } })
    await page.locator('.palette-item[data-type="lb"]').dragTo(pane, { targetPosition: { x: 560, y: 380 } })
    await page.locator(nodeSel('lb')).waitFor()
    const box = await pane.boundingBox()
    const view = await transform(page)

    // no Shift: a box around both selects both, and the view stays
    // (away from the edges, where a selection drag scrolls the view)
    await drag(page, { x: box.x + 60, y: box.y + 40 }, { x: box.x + Math.min(900, box.width - 120), y: box.y + Math.min(560, box.height - 80) })
    await shot(page, 'canvas-box-select.png')
    await page.mouse.up()
    await page.getByRole('toolbar', { name: 'Selection' }).getByText('2 selected').waitFor()
    assert.equal(await transform(page), view, 'a drag on the canvas did not pan')
    await page.keyboard.press('Escape')

    // Space + drag pans, and so does the middle button
    await page.mouse.move(box.x + 900, box.y + 600)
    await page.keyboard.down('Space')
    await page.mouse.down()
    await page.mouse.move(box.x + 850, box.y + 560, { steps: 6 })
    await page.mouse.up()
    await page.keyboard.up('Space')
    const afterSpace = await transform(page)
    assert.notEqual(afterSpace, view, 'Space + drag panned')
    await page.mouse.move(box.x + 900, box.y + 600)
    await page.mouse.down({ button: 'middle' })
    await page.mouse.move(box.x + 860, box.y + 590, { steps: 6 })
    await page.mouse.up({ button: 'middle' })
    const afterMiddle = await transform(page)
    assert.notEqual(afterMiddle, afterSpace, 'the middle button panned')
    assert.equal(await page.locator('.react-flow__node.selected').count(), 0, 'panning selected nothing')

    // the hand tool (H, or its button): a plain drag pans; V goes back to selecting
    const hand = page.getByTestId('hand-tool')
    assert.equal(await hand.getAttribute('aria-pressed'), 'false')
    await page.keyboard.press('h')
    assert.equal(await hand.getAttribute('aria-pressed'), 'true')
    await shot(page, 'canvas-hand-tool.png')
    await drag(page, { x: box.x + 900, y: box.y + 600 }, { x: box.x + 800, y: box.y + 500 })
    await page.mouse.up()
    assert.notEqual(await transform(page), afterMiddle, 'a drag with the hand tool panned')
    assert.equal(await page.locator('.react-flow__node.selected').count(), 0)
    await hand.click()
    assert.equal(await hand.getAttribute('aria-pressed'), 'false')
    assert.deepEqual(await axeSerious(page, '.react-flow__controls'), [], 'axe on the canvas controls')
    assert.deepEqual(p.errors, [])
  })
})
