// The Sections tab (issue 23, points 1 and 2): Ada writes a requirement, an estimate of the peak, an
// endpoint and an entity without a key; Bob sees each live with Ada's caret, and the server's checks
// beside them (the estimate passes against the problem's stated peak, the entity fails for its
// missing key); Vera's view link (dark theme) sees the same read-only; Bob adds the key and the check passes for all.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { axeSerious, createRoom, roomUrl, setup, shot, waitFor } from './harness.mjs'

const env = setup()

async function open(p, url) {
  await p.page.setViewportSize({ width: 1440, height: 900 })
  await p.page.goto(url)
  await p.page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
  await p.page.getByRole('tab', { name: /^Sections/ }).click()
  await p.page.getByTestId('sections-panel').waitFor()
}

/** Types into one collaborative field (a CodeMirror editor found by its label). */
async function type(scope, label, text) {
  const field = scope.getByRole('textbox', { name: label, exact: true })
  await field.click()
  await field.page().keyboard.type(text)
}

/** A field's text, without the name labels of others' carets (drawn inside the editor's content). */
const value = (loc) =>
  loc.evaluate((el) => {
    const c = el.cloneNode(true)
    c.querySelectorAll('.cm-ySelectionCaret').forEach((n) => n.remove())
    return c.textContent
  })

const text = (page, selector) => page.locator(selector).evaluateAll((els) => els.map((e) => e.textContent).join('\n'))

describe('sections', () => {
  it('are written together, checked live by the server, and read-only for a view link', async () => {
    const base = env.server.base
    // Tutorial 2 states a peak of 10,000 requests/s (targets.peak_rate_per_sec).
    const created = await createRoom(base, 'tutorial-intermediate-images')
    const ada = await env.person('Ada')
    const bob = await env.person('Bob')
    const vera = await env.person('Vera', { dark: true })
    await open(ada, roomUrl(base, created, 'edit'))
    await open(bob, roomUrl(base, created, 'edit'))
    await open(vera, roomUrl(base, created, 'view'))

    // The checks arrive on connect: nothing written yet, nothing judged.
    await waitFor(
      async () => (await ada.page.getByTestId('sec-check-estimates').getAttribute('data-status')) === 'info',
      'the first checks',
    )

    // A requirement, with Ada's caret at Bob.
    await type(ada.page, 'Functional requirements', 'Users upload images\nUsers view an image by its URL')
    await waitFor(
      async () =>
        (await value(bob.page.getByRole('textbox', { name: 'Functional requirements', exact: true }))).includes(
          'Users view an image by its URL',
        ),
      'the requirement at Bob',
    )
    await waitFor(
      async () => (await bob.page.locator('.sections-panel .cm-ySelectionInfo', { hasText: 'Ada' }).count()) === 1,
      'Ada’s caret at Bob',
    )

    // An estimate of the peak near the problem's 10,000/s.
    await ada.page.getByRole('button', { name: '+ Add estimate' }).click()
    const est = ada.page.getByTestId('sec-estimate').last()
    await type(est, 'Estimate name', 'peak requests')
    await type(est, 'Estimate value', '9,500')
    await type(est, 'Estimate unit', '/s')
    await type(est, 'Estimate arithmetic', '1M DAU × 10 × 82 / 86,400')

    // An endpoint and an entity without a key.
    await ada.page.getByRole('button', { name: '+ Add endpoint' }).click()
    const ep = ada.page.getByTestId('sec-endpoint').last()
    await type(ep, 'Endpoint method', 'POST')
    await type(ep, 'Endpoint path', '/images')
    await type(ep, 'Endpoint request', '{file, owner}')
    await type(ep, 'Endpoint response', '{id, url}')
    await ada.page.getByRole('button', { name: '+ Add entity' }).click()
    const ent = ada.page.getByTestId('sec-entity').last()
    await type(ent, 'Entity name', 'Image')
    await type(ent, 'Entity fields', 'id, owner, url, created_at')

    // Bob sees all of it, and the server's checks beside it.
    const bobEst = bob.page.getByTestId('sec-estimate')
    await waitFor(
      async () =>
        (await bobEst.count()) === 1 &&
        (await value(bobEst.getByRole('textbox', { name: 'Estimate arithmetic', exact: true }))) === '1M DAU × 10 × 82 / 86,400',
      'the estimate at Bob',
    )
    assert.equal(await value(bobEst.getByRole('textbox', { name: 'Estimate name', exact: true })), 'peak requests')
    assert.equal(await value(bobEst.getByRole('textbox', { name: 'Estimate value', exact: true })), '9,500')
    await waitFor(
      async () =>
        (await value(bob.page.getByTestId('sec-endpoint').getByRole('textbox', { name: 'Endpoint response', exact: true }))) ===
        '{id, url}',
      'the endpoint at Bob',
    )
    assert.equal(await value(bob.page.getByTestId('sec-endpoint').getByRole('textbox', { name: 'Endpoint path', exact: true })), '/images')
    await waitFor(
      async () =>
        (await value(bob.page.getByTestId('sec-entity').getByRole('textbox', { name: 'Entity fields', exact: true }))) ===
        'id, owner, url, created_at',
      'the entity at Bob',
    )

    const estCheck = bobEst.getByTestId('row-check')
    await waitFor(
      // the checks follow the typing: wait for the one of the whole arithmetic
      async () =>
        (await estCheck.count()) === 1 &&
        (await estCheck.getAttribute('data-status')) === 'pass' &&
        (await estCheck.textContent()).includes('86,400)'),
      'the estimate’s check at Bob',
    )
    const why = await estCheck.textContent()
    assert.match(why, /your peak requests: 9,500\/s \(1M DAU × 10 × 82 \/ 86,400\)/)
    assert.match(why, /the problem's stated peak: 10,000\/s \(targets\.peak_rate_per_sec\)/)
    assert.match(why, /within 2×/)
    assert.equal(await bob.page.getByTestId('sec-check-estimates').getAttribute('data-status'), 'pass')

    const keyCheck = bob.page.getByTestId('sec-entity').getByTestId('row-check')
    await waitFor(
      async () => (await keyCheck.count()) === 1 && (await keyCheck.getAttribute('data-status')) === 'fail',
      'the missing key at Bob',
    )
    assert.match(await keyCheck.textContent(), /no key/)
    assert.equal(await bob.page.getByTestId('sec-check-data_model_keys').getAttribute('data-status'), 'fail')
    // The API coverage is a checklist of the problem's functional requirements.
    // (folded under its summary).
    const coverage = bob.page.getByTestId('sec-checklist-api_coverage')
    await coverage.locator('summary').click()
    await coverage.locator('li').first().waitFor()
    assert.ok((await coverage.locator('li').count()) >= 1)
    await bob.page.locator('[data-section=estimates]').scrollIntoViewIfNeeded()
    await shot(bob.page, 'sections-checks.png')
    assert.deepEqual(await axeSerious(bob.page, '.sections-panel'), [], 'axe on the Sections tab')

    // Vera only reads: the same sections and checks, nothing to edit.
    const veraEnt = vera.page.getByTestId('sec-entity')
    await waitFor(
      async () =>
        (await veraEnt.count()) === 1 && (await value(veraEnt.getByRole('textbox', { name: 'Entity name', exact: true }))) === 'Image',
      'the entity at Vera',
    )
    assert.equal(await vera.page.getByRole('button', { name: /^\+ Add/ }).count(), 0)
    assert.equal(await vera.page.getByRole('button', { name: /^Remove this/ }).count(), 0)
    assert.equal(
      await vera.page.getByRole('textbox', { name: 'Functional requirements', exact: true }).getAttribute('contenteditable'),
      'false',
    )
    assert.equal(await veraEnt.getByRole('textbox', { name: 'Entity name', exact: true }).getAttribute('contenteditable'), 'false')
    assert.match(await text(vera.page, '.sections-panel'), /Users upload images/)
    await waitFor(
      async () =>
        (await veraEnt
          .getByTestId('row-check')
          .getAttribute('data-status')
          .catch(() => null)) === 'fail',
      'the key check at Vera',
    )

    // Bob gives the entity its key: the check passes, live, for everyone.
    await type(bob.page.getByTestId('sec-entity'), 'Entity keys', 'id')
    await waitFor(
      async () => (await ada.page.getByTestId('sec-check-data_model_keys').getAttribute('data-status')) === 'pass',
      'the key check passing at Ada',
    )
    // (the check passes from the first letter typed; the explanation catches up with the whole key)
    await waitFor(
      async () => /key id$/.test(await ada.page.getByTestId('sec-entity').getByTestId('row-check').textContent()),
      'the key in the check',
    )
    await waitFor(
      async () => (await vera.page.getByTestId('sec-check-data_model_keys').getAttribute('data-status')) === 'pass',
      'the key check passing at Vera',
    )
    await vera.page.locator('[data-section=data_model]').scrollIntoViewIfNeeded()
    await shot(vera.page, 'sections-view-only.png')
    assert.deepEqual(await axeSerious(vera.page, '.sections-panel'), [], 'axe on the read-only Sections tab, dark')

    // Removing an entry reaches the others too.
    await ada.page
      .getByTestId('sec-endpoint')
      .getByRole('button', { name: /^Remove this endpoint/ })
      .click()
    await waitFor(async () => (await bob.page.getByTestId('sec-endpoint').count()) === 0, 'the endpoint gone at Bob')

    assert.deepEqual([...ada.errors, ...bob.errors, ...vera.errors], [])
  })

  it('follow the interview phase: the bar points at its sections, the tab highlights them', async () => {
    const base = env.server.base
    const r = await fetch(`${base}/api/rooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ problem: 'tutorial-intermediate-images', mode: 'interview' }),
    })
    assert.equal(r.status, 201)
    const { room, tokens } = await r.json()
    const host = async (action) => {
      const res = await fetch(`${base}/api/rooms/${room}/host?token=${tokens.host}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ action }),
      })
      assert.equal(res.status, 200, action)
    }
    const cleo = await env.person('Cleo')
    await cleo.page.setViewportSize({ width: 1440, height: 900 })
    await cleo.page.goto(`${base}/r/${room}#edit=${tokens.edit}&view=${tokens.view}`)
    await cleo.page.getByTestId('link-status').filter({ hasText: 'Connected' }).waitFor({ timeout: 15_000 })
    const current = () => cleo.page.locator('.sec-current').evaluateAll((els) => els.map((e) => e.getAttribute('data-section')))

    // The first phase (requirements): the bar points at the requirements; following it opens the tab there.
    await host('clock_start')
    const pointer = cleo.page.getByTestId('iv-sections')
    await pointer.filter({ hasText: 'Functional requirements, Non-functional requirements' }).waitFor()
    await pointer.click()
    await cleo.page.getByTestId('sections-panel').waitFor()
    assert.equal(await cleo.page.getByRole('tab', { name: /^Sections/ }).getAttribute('aria-selected'), 'true')
    await waitFor(async () => (await current()).join() === 'req_functional,req_nonfunctional', 'the requirements highlighted')

    await host('next_phase')
    await pointer.filter({ hasText: 'Estimates' }).waitFor()
    await waitFor(async () => (await current()).join() === 'estimates', 'the estimates highlighted')
    await host('next_phase')
    await waitFor(async () => (await current()).join() === 'api,data_model', 'the API and data model highlighted')
    await pointer.filter({ hasText: 'API, Data model' }).waitFor()
    await shot(cleo.page, 'sections-phase.png')
    // A phase without a section (the high-level design) points nowhere.
    await host('next_phase')
    await waitFor(async () => (await current()).length === 0, 'no section highlighted')
    assert.equal(await pointer.count(), 0)
    assert.deepEqual(cleo.errors, [])
  })
})
