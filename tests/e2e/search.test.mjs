// Search and browsing (issue 24, item 5) in the browser, over the committed bank: all words before
// any word, title matches first, typos tolerated, a sensible default order, a difficulty on every
// classic, and facet counts that are what their filter returns.
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
})
