// Search and browsing (issue 24, item 5) in the browser, over the committed bank: all words before
// any word, title matches first, typos tolerated, a sensible default order, a difficulty on every
// classic, and facet counts that are what their filter returns. Families of near-identical problems
// (issue 20 item 4) are one card each, their variants inside, and the counts still agree.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { setup, shot, waitFor } from './harness.mjs'

const env = setup()

async function landing() {
  const p = await env.person('Sam')
  await p.page.goto(env.server.base + '/')
  await p.page.locator('.card').first().waitFor()
  return p
}

async function search(page, text) {
  const box = page.getByRole('searchbox', { name: 'Search problems' })
  await box.fill(text)
  await waitFor(
    async () =>
      (await page.locator('.result-count').textContent())?.includes(`matching “${text}”`) &&
      !(await page.locator('.results[aria-busy=true]').count()),
    `results for ${text}`,
  )
  return {
    count: Number((await page.locator('.result-count').textContent()).match(/^(\d+)/)[1]),
    titles: await page.locator('.card h2').allTextContents(),
  }
}

describe('problem search', () => {
  it('ranks title matches first, needs every word, tolerates typos', async () => {
    const { page, errors } = await landing()
    // Default order: the classics first, the easiest (URL shortener) at the top; every classic has a level.
    const first = await page.locator('.card').first()
    assert.match(await first.locator('h2').textContent(), /URL Shortener/)
    assert.equal(await first.locator('.difficulty').textContent(), 'Easy')
    assert.equal(await page.locator('.shelf .difficulty').count(), 15, 'a level on each of the 15 popular questions')
    assert.doesNotMatch(await first.locator('.card-summary').textContent(), /[:,]$/, 'the summary is a whole sentence')
    await shot(page, 'search-default.png')

    const rate = await search(page, 'rate limiter')
    assert.ok(rate.count < 100, `${rate.count} results for "rate limiter" (was 405)`)
    assert.equal(rate.titles[0], 'Design Rate Limiter')
    assert.ok(
      rate.titles.slice(0, 3).every((t) => /rate limit/i.test(t)),
      rate.titles.join(' | '),
    )
    await shot(page, 'search-rate-limiter.png')

    assert.equal((await search(page, 'twitter')).titles[0], 'Design Twitter/X')
    for (const [typo, want] of [
      ['shortner', /URL Shortener/],
      ['ratelimit', /Rate Limiter/],
      ['twiter', /Twitter/],
    ]) {
      const r = await search(page, typo)
      assert.ok(r.count > 0, `${typo}: nothing found`)
      assert.ok(
        r.titles.slice(0, 3).some((t) => want.test(t)),
        `${typo}: ${r.titles.slice(0, 3).join(' | ')}`,
      )
    }
    await shot(page, 'search-typo.png')
    assert.deepEqual(errors, [])
  })

  it('every difficulty and category count is what its filter returns', async () => {
    const { page } = await landing()
    for (const text of ['', 'cache']) {
      if (text) await search(page, text)
      const facet = page.locator('fieldset.facet', {
        has: page.locator('legend', { hasText: 'Difficulty' }),
      })
      const items = await facet.locator('.facet-item:has(.count)').all()
      assert.ok(items.length >= 4)
      const wanted = []
      for (const item of items)
        wanted.push([await item.locator('span').first().textContent(), Number(await item.locator('.count').textContent())])
      if (!text)
        assert.ok(
          wanted.some(([name, n]) => name === 'none' && n === 7),
          JSON.stringify(wanted),
        )
      for (const [name, n] of wanted) {
        await facet.locator('.facet-item', { hasText: name }).first().click()
        await waitFor(
          async () => (await page.locator('.result-count').textContent())?.startsWith(`${n} problem`),
          `${text}/${name}: ${n} results`,
        )
        if (name === 'none') await shot(page, 'search-facet-none.png')
        await facet.getByRole('button', { name: 'All' }).click()
        await page.locator('.results[aria-busy=false]').waitFor()
      }
    }
  })
  it('shows a family of near-identical problems once, with its variants inside', async () => {
    const { page, errors } = await landing()
    const api = async (qs) => (await fetch(`${env.server.base}/api/problems${qs}`)).json()
    // Over the whole L5 level, through the API: every matching problem is a card or a variant of one.
    const pages = []
    for (let n = 1; ; n++) {
      const r = await api(`?difficulty=L5-Staff&group=family&per_page=100&page=${n}`)
      pages.push(...r.items)
      if (r.items.length === 0 || n * 100 >= r.groups) break
    }
    const plain = await api('?difficulty=L5-Staff&per_page=1')
    const shown = pages.reduce((n, item) => n + 1 + (item.variants?.length ?? 0), 0)
    assert.equal(shown, plain.total, 'cards and their variants add up to the problems the filter returns')
    assert.equal(plain.facets.difficulty['L5-Staff'], plain.total)
    const families = pages.filter((item) => item.family)
    assert.ok(families.length >= 10, `${families.length} L5 families`)
    assert.equal(new Set(families.map((f) => f.family.id)).size, families.length, 'a family is shown once')
    assert.ok(pages.length < plain.total / 2, `${pages.length} cards for ${plain.total} problems`)

    // In the browser: the level's facet count is the number of problems; its page shows the families.
    const facet = page.locator('fieldset.facet', { has: page.locator('legend', { hasText: 'Difficulty' }) })
    const l5 = facet.locator('.facet-item', { hasText: 'L5-Staff' })
    const count = Number(await l5.locator('.count').textContent())
    assert.equal(count, plain.total)
    await l5.click()
    await waitFor(
      async () => (await page.locator('.result-count').textContent())?.startsWith(`${count} problems`),
      'the L5 problems',
    )
    assert.match(await page.locator('.result-count').textContent(), new RegExp(`${pages.length} distinct`))
    const cards = page.locator('.card.family')
    const ids = await cards.evaluateAll((els) => els.map((e) => e.dataset.family))
    assert.ok(ids.length >= 1)
    assert.equal(new Set(ids).size, ids.length, 'one card per family on the page')
    const card = cards.first()
    const first = families.find((f) => f.family.id === ids[0])
    assert.match(await card.locator('.card-family').textContent(), new RegExp(`One of ${first.family.size} near-identical variants`))
    // The variants are folded away until asked for.
    const links = card.locator('.variants li a')
    assert.equal(await links.first().isVisible(), false)
    await card.locator('.variants summary').click()
    assert.equal(await card.locator('.variants summary').textContent(), `All ${first.family.size} variants`)
    assert.equal(await links.count(), first.family.size - 1)
    assert.deepEqual(
      await links.allTextContents(),
      first.variants.map((v) => v.title),
    )
    await shot(page, 'search-family.png')
    const target = first.variants[0]
    await links.first().click()
    await page.waitForURL(`**/problems/${encodeURIComponent(target.id)}`)
    await page.locator('h1', { hasText: target.title }).first().waitFor()

    // A search that finds one variant shows it as one of its family, with nothing to unfold.
    await page.goto(env.server.base + '/')
    await page.locator('.card').first().waitFor()
    const word = first.title.split(' ')[0]
    const found = await search(page, word)
    const hit = await api(`?q=${encodeURIComponent(word)}&group=family&per_page=100`)
    assert.equal(found.count, hit.total)
    const one = hit.items.find((i) => i.family && !i.variants)
    if (one) {
      const c = page.locator('.card.family', { has: page.locator('h2', { hasText: one.title }) })
      assert.match(await c.locator('.card-family').textContent(), /One of \d+ near-identical variants/)
      assert.equal(await c.locator('.variants').count(), 0)
    }
    assert.deepEqual(errors, [])
  })
})
