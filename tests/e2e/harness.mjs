// Shared harness for the browser end-to-end tests: a real `tierboard serve` on a free loopback port
// with a fresh SQLite file, and the system Chromium driven by playwright-core (never a downloaded
// browser). Every page's console errors are collected so that a test can assert there were none.
import { spawn } from 'node:child_process'
import { after, before } from 'node:test'
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
export const repo = path.resolve(here, '../..')
// playwright-core is a dev dependency of client/ (one install: `npm --prefix client ci`).
const require = createRequire(path.join(repo, 'client/package.json'))
const { chromium } = require('playwright-core')

export const screenshots = path.join(here, 'screenshots')
mkdirSync(screenshots, { recursive: true })

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync']

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function waitHealthy(base, proc, log) {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`tierboard serve exited with ${proc.exitCode}:\n${log()}`)
    try {
      const r = await fetch(`${base}/healthz`)
      if (r.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`tierboard serve did not answer /healthz within 60 s:\n${log()}`)
}

/**
 * Starts the server (TIERBOARD_BIN, default target/debug/tierboard; the client from TIERBOARD_E2E_DIST,
 * default client/dist) unless TIERBOARD_E2E_URL names
 * one that is already running (for working on the tests themselves). `extraArgs` are appended to
 * `tierboard serve` (e.g. `--hide-solutions` for an interview server).
 */
export async function startServer(extraArgs = []) {
  if (process.env.TIERBOARD_E2E_URL) return { base: process.env.TIERBOARD_E2E_URL.replace(/\/$/, ''), stop: async () => {} }
  const bin = path.resolve(repo, process.env.TIERBOARD_BIN ?? 'target/debug/tierboard')
  if (!existsSync(bin)) throw new Error(`no server binary at ${bin}: run \`cargo build\` first or set TIERBOARD_BIN`)
  // TIERBOARD_E2E_DIST: another build of the client (a benchmark's "before"); client/dist by default
  const dist = path.resolve(repo, process.env.TIERBOARD_E2E_DIST ?? 'client/dist')
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error('client/dist is missing: run `npm --prefix client run build`')
  const dir = mkdtempSync(path.join(tmpdir(), 'tierboard-e2e-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let output = ''
  const proc = spawn(
    bin,
    ['serve', '--addr', `127.0.0.1:${port}`, '--database-url', `sqlite://${dir}/t.db`, '--static-dir', dist, '--problems', path.join(repo, 'problems'), '--room-creations-per-minute', '0', ...extraArgs],
    { cwd: repo, env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const keep = (b) => {
    output = (output + b.toString()).slice(-20_000)
  }
  proc.stdout.on('data', keep)
  proc.stderr.on('data', keep)
  try {
    await waitHealthy(base, proc, () => output)
  } catch (e) {
    proc.kill('SIGKILL')
    throw e
  }
  return {
    base,
    /** The server's SQLite file (for benchmarks that seed it). */
    database: path.join(dir, 't.db'),
    log: () => output,
    stop: async () => {
      if (proc.exitCode === null) {
        const done = new Promise((r) => proc.once('exit', r))
        proc.kill('SIGTERM')
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000)
        await done
        clearTimeout(t)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\``)
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS })
}

/**
 * A browser context as one person: a remembered display name, a 1280×720 window, and a list of
 * console errors and page errors.
 */
export async function person(browser, name, opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, colorScheme: opts.dark ? 'dark' : 'light' })
  if (name) await context.addInitScript((n) => localStorage.setItem('tierboard.name', n), name)
  const p = { context, page: null, errors: [], name }
  await newPage(p)
  return p
}

/** Opens a new page (tab) for a person, in the same context (same IndexedDB), watching its console. */
export async function newPage(p) {
  const page = await p.context.newPage()
  page.on('console', (m) => {
    if (m.type() === 'error') p.errors.push(`${p.name}: ${m.text()}`)
  })
  page.on('pageerror', (e) => p.errors.push(`${p.name}: ${e.message}`))
  p.page = page
  return page
}

export async function shot(page, file) {
  await page.screenshot({ path: path.join(screenshots, file) })
}

/** Creates a room through the API, as the problem page's button does. */
export async function createRoom(base, problem) {
  const r = await fetch(`${base}/api/rooms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ problem }) })
  if (r.status !== 201) throw new Error(`POST /api/rooms answered ${r.status}: ${await r.text()}`)
  return r.json()
}

export function roomUrl(base, created, role) {
  const t = created.tokens
  return role === 'view' ? `${base}/r/${created.room}#view=${t.view}` : `${base}/r/${created.room}#edit=${t.edit}&view=${t.view}`
}

// ---- canvas helpers ----

export const nodeSel = (type) => `.react-flow__node:has([data-type="${type}"])`

export async function addFromPalette(page, type) {
  const before = await page.locator(nodeSel(type)).count()
  await page.click(`.palette-item[data-type="${type}"]`)
  await page.locator(nodeSel(type)).nth(before).waitFor()
}

/**
 * Connects two nodes by dragging from the source's right handle to the middle of the target's left
 * side (where its left handle appears as the pointer reaches it). Handles exist only on the node under
 * the pointer and on selected nodes (issue 24, item 9): the source is hovered first.
 */
export async function connect(page, fromType, toType) {
  const from = page.locator(nodeSel(fromType)).first()
  await from.hover()
  const a = await from.locator('.react-flow__handle.source').first().boundingBox()
  const t = await page.locator(nodeSel(toType)).first().boundingBox()
  const b = { x: t.x - a.width / 2, y: t.y + t.height / 2 - a.height / 2 }
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2)
  await page.mouse.down()
  for (let i = 1; i <= 10; i++) {
    await page.mouse.move(a.x + ((b.x - a.x) * i) / 10 + a.width / 2, a.y + ((b.y - a.y) * i) / 10 + a.height / 2)
  }
  await page.mouse.up()
}

/** Moves the pointer over an empty part of the canvas so that the others see a cursor. */
export async function hoverCanvas(page, x = 420, y = 600) {
  await page.mouse.move(x, y)
  await page.mouse.move(x + 15, y + 10, { steps: 3 })
}

export async function waitFor(fn, what, ms = 10_000) {
  const deadline = Date.now() + ms
  let last
  while (Date.now() < deadline) {
    last = await fn()
    if (last) return last
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

/**
 * Waits until the canvas view has stopped moving (`F` starts a 300 ms fit animation): the viewport's
 * transform unchanged for 200 ms, polled every 100 ms.
 */
export async function viewSettled(page, ms = 5_000) {
  const transform = () => page.locator('.react-flow__viewport').evaluate((el) => el.style.transform)
  let last = await transform()
  let since = Date.now()
  await waitFor(
    async () => {
      const now = await transform()
      if (now !== last) {
        last = now
        since = Date.now()
      }
      return Date.now() - since >= 200
    },
    'the view to stop moving',
    ms,
  )
}

/** How many updates the page's offline copy of a room holds (y-indexeddb's `updates` store). */
export function storedUpdates(page, room) {
  return page.evaluate(
    (name) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open(name)
        open.onerror = () => reject(open.error)
        open.onsuccess = () => {
          const db = open.result
          const count = db.transaction('updates', 'readonly').objectStore('updates').count()
          count.onsuccess = () => {
            db.close()
            resolve(count.result)
          }
          count.onerror = () => {
            db.close()
            reject(count.error)
          }
        }
      }),
    `tierboard:${room}`,
  )
}

/** Buttons, links and form fields on the page that have no accessible name (should be none). */
export async function unlabelled(page) {
  return page.evaluate(() => {
    const named = (el) => {
      if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.getAttribute('title')) return true
      if (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) return true
      if (el.closest('label')) return true
      return (el.textContent ?? '').trim().length > 0
    }
    const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden'
    return [...document.querySelectorAll('button, a[href], input:not([type=hidden]), textarea, select, summary')]
      .filter((el) => visible(el) && !named(el))
      .map((el) => el.outerHTML.slice(0, 120))
  })
}

/**
 * One server and one browser for a test file: started before its tests, stopped after them, with
 * every person's context closed. `env.person(name)` opens a context that is cleaned up with it.
 * `opts.serverArgs`: extra `tierboard serve` arguments.
 */
export function setup(opts = {}) {
  const env = {
    server: null,
    browser: null,
    people: [],
    async person(name, opts) {
      const p = await person(env.browser, name, opts)
      env.people.push(p)
      return p
    },
  }
  before(async () => {
    env.server = await startServer(opts.serverArgs)
    env.browser = await launchBrowser()
  })
  after(async () => {
    for (const p of env.people) await p.context.close().catch(() => {})
    await env.browser?.close()
    await env.server?.stop()
  })
  return env
}

/**
 * Runs axe-core (a dev dependency of client/) in the page, optionally on one part of it, and returns
 * the serious and critical violations as readable lines (empty when there are none).
 */
export async function axeSerious(page, selector) {
  // Evaluated through the DevTools protocol, not as a <script> tag: the server's Content-Security-Policy
  // (script-src 'self') rightly blocks inline scripts, and the page is checked with that policy on.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'))
  const violations = await page.evaluate(async (sel) => {
    const r = await window.axe.run(sel ? { include: [sel] } : document, { resultTypes: ['violations'] })
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }))
  }, selector ?? null)
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.join('; ')})`)
}
