// In-browser replay benchmark (issue 23: "Replay of a 1-hour session with 20,000 updates opens in
// ≤ 1 s and scrubs without stalls"). The server-side figures are `server/benches/replay.rs`; this one
// measures what the interviewer sees in Chromium: the report page of an interview room whose history
// holds a one-hour session of 20,000 updates (the same session as the Rust benchmark: 40 nodes, 60
// edges, requirements typed a character at a time, the rest node drags, spread evenly over the hour),
// opened, then scrubbed to 20 positions across the hour, one after the other. A scrub is timed from
// the scrubber's input event to the frame after the replay shows the design of that moment (the
// request to `history?at=`, the replay on the server, the JSON, the SVG drawn and painted).
//
// Seeds the room directly in the server's SQLite file (`sqlite3` CLI): the rows a room would have
// written, with times over the past hour, so that the session really spans an hour.
//
// Run (about a minute with a release server; not part of `scripts/test`):
//   cargo build --release && npm --prefix client run build
//   TIERBOARD_BIN=target/release/tierboard nice -n 10 node bench/browser/replay-scrub.mjs
// Prints open time, median and worst scrub; writes bench/results/replay-browser.json.
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { launchBrowser, repo, startServer } from '../../tests/e2e/harness.mjs'

const require = createRequire(path.join(repo, 'client/package.json'))
const Y = require('yjs')

const UPDATES = 20_000
const HOUR_MS = 3_600_000
const POSITIONS = 20
const PROBLEM = 'tutorial-simple-blog'

/** The session of `server/benches/replay.rs`, update by update. */
function session() {
  const doc = new Y.Doc()
  doc.clientID = 7
  const out = []
  doc.on('update', (u) => out.push(u))
  const types = ['client', 'lb', 'app', 'db_primary', 'db_replica']
  const typed = 'Read posts\nPublish posts\nView comments\np99 < 200 ms\n99.9% uptime\n'
  let nodes = 0
  let edges = 0
  let typedAt = 0
  const nodesMap = doc.getMap('nodes')
  for (let i = 0; i < UPDATES; i++) {
    doc.transact(() => {
      if (i % 50 === 0 && nodes < 40) {
        const ty = types[nodes % types.length]
        const n = new Y.Map()
        n.set('type', ty)
        n.set('label', `${ty} ${nodes}`)
        n.set('x', (nodes % 8) * 200)
        n.set('y', Math.floor(nodes / 8) * 120)
        n.set('params', new Y.Map())
        nodesMap.set(`n${nodes}`, n)
        nodes++
      } else if (i % 50 === 25 && edges < 60 && nodes >= 2) {
        const e = new Y.Map()
        e.set('from', `n${edges % nodes}`)
        e.set('to', `n${(edges + 1) % nodes}`)
        doc.getMap('edges').set(`e${edges}`, e)
        edges++
      } else if (i % 10 === 3) {
        const text = doc.getText(typedAt < 40 ? 'req_functional' : 'req_nonfunctional')
        text.insert(text.length, typed[typedAt % typed.length])
        typedAt++
      } else {
        const node = nodesMap.get(`n${i % Math.max(nodes, 1)}`)
        if (node) {
          node.set('x', (i % 997) * 1.5)
          node.set('y', i % 389)
        }
      }
    })
  }
  return { updates: out, state: Y.encodeStateAsUpdate(doc), nodes, edges }
}

const hex = (u) => Buffer.from(u).toString('hex')
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const server = await startServer()
let browser
try {
  const r = await fetch(`${server.base}/api/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ problem: PROBLEM, mode: 'interview' }),
  })
  if (r.status !== 201) throw new Error(`POST /api/rooms: ${r.status}`)
  const { room, tokens } = await r.json()

  const s = session()
  const end = Date.now()
  const start = end - HOUR_MS
  const sql = ['PRAGMA busy_timeout = 10000;', 'BEGIN;']
  s.updates.forEach((u, i) => {
    const at = start + Math.floor((i * HOUR_MS) / s.updates.length)
    sql.push(`INSERT INTO doc_history (room_id, writer, seq, at_ms, data) VALUES ('${room}', 'bench', ${i}, ${at}, X'${hex(u)}');`)
  })
  // The room's document as the session left it, and its creation an hour ago.
  sql.push(`INSERT INTO doc_updates (room_id, writer, seq, data, created_ms) VALUES ('${room}', 'bench', 0, X'${hex(s.state)}', ${end});`)
  sql.push(`UPDATE rooms SET created_ms = ${start} WHERE id = '${room}';`, 'COMMIT;')
  execFileSync('sqlite3', [server.database], { input: sql.join('\n') })
  const bytes = s.updates.reduce((n, u) => n + u.length, 0)
  console.log(`seeded ${s.updates.length} updates (${(bytes / 1024).toFixed(0)} KiB) over an hour: ${s.nodes} nodes, ${s.edges} edges`)

  // The server's part alone, before the browser competes for the CPU: the report, and the replay
  // at the end of the hour (the first frame's request).
  const timed = async (url) => {
    const t = performance.now()
    const r = await fetch(url)
    await r.arrayBuffer()
    if (!r.ok) throw new Error(`${url}: ${r.status}`)
    return Math.round(performance.now() - t)
  }
  const serverAlone = {
    report_ms: await timed(`${server.base}/api/rooms/${room}/report?token=${tokens.host}`),
    history_at_end_ms: await timed(`${server.base}/api/rooms/${room}/history?token=${tokens.host}&at=${end}`),
  }

  browser = await launchBrowser()
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } })
  const page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  // When the first replay frame is in the page, from the navigation's start (the page's own clock).
  await page.addInitScript(() => {
    new MutationObserver((_, obs) => {
      if (document.querySelector('[data-testid=replay-frame]')) {
        window.__firstFrame = performance.now()
        obs.disconnect()
      }
    }).observe(document, { childList: true, subtree: true })
  })
  const t0 = Date.now()
  await page.goto(`${server.base}/r/${room}/report#host=${tokens.host}`)
  await page.getByTestId('replay-frame').waitFor({ timeout: 120_000 })
  const gotoMs = Date.now() - t0
  // Where the opening went: the page, the report (the server replays the whole history for it),
  // the first replay frame's history request.
  const phases = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0]
    const res = performance.getEntriesByType('resource')
    const one = (part) => res.find((r) => r.name.includes(part))
    const span = (r) => (r ? Math.round(r.responseEnd - r.startTime) : null)
    const report = one('/report?')
    return {
      first_frame_ms: Math.round(window.__firstFrame),
      page_ms: Math.round(nav.domContentLoadedEventEnd),
      report_sent_ms: report ? Math.round(report.startTime) : null,
      report_request_ms: span(one('/report?')),
      history_request_ms: span(one('/history?')),
    }
  })
  const nodesShown = await page.getByTestId('replay-frame').locator('.tb-node').count()
  if (nodesShown !== s.nodes) throw new Error(`the replay at the end shows ${nodesShown} nodes, not ${s.nodes}`)

  // Scrub: each position set as a user's drag sets it (an input event on the range), timed in the
  // page until the frame of that moment is painted.
  const scrubs = await page.evaluate(async (n) => {
    const input = document.querySelector('[data-testid=scrubber]')
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set
    const min = Number(input.min)
    const max = Number(input.max)
    const frame = () => document.querySelector('[data-testid=replay-frame]')
    const out = []
    for (let k = 0; k < n; k++) {
      const t0 = performance.now()
      setValue.call(input, String(min + ((max - min) * (k + 0.5)) / n))
      input.dispatchEvent(new Event('input', { bubbles: true }))
      const want = input.value
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r))
        if (frame()?.dataset.at === want) break
        if (performance.now() - t0 > 60_000) throw new Error(`no frame at ${want}`)
      }
      // The frame after the one that holds the new design: it has been painted.
      await new Promise((r) => requestAnimationFrame(r))
      out.push({ at: Number(want) - min, ms: performance.now() - t0, rows: Number(frame().dataset.rows), nodes: frame().querySelectorAll('.tb-node').length })
    }
    return out
  }, POSITIONS)
  const ms = scrubs.map((x) => x.ms)
  const result = {
    server: path.relative(repo, path.resolve(repo, process.env.TIERBOARD_BIN ?? 'target/debug/tierboard')),
    browser: 'chromium headless',
    updates: s.updates.length,
    open_ms: phases.first_frame_ms,
    open_phases: phases,
    open_with_driver_ms: gotoMs,
    server_alone: serverAlone,
    scrub_positions: POSITIONS,
    scrub_median_ms: median(ms),
    scrub_worst_ms: Math.max(...ms),
    scrubs: scrubs.map((x) => ({ minute: +(x.at / 60_000).toFixed(2), ms: +x.ms.toFixed(1), rows: x.rows, nodes: x.nodes })),
    when: new Date().toISOString(),
  }
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`)
  if (scrubs[POSITIONS - 1].rows <= scrubs[0].rows) throw new Error('the scrub positions did not move through the history')
  console.log(
    `replay in Chromium (${result.server}): opened in ${phases.first_frame_ms} ms (page ${phases.page_ms}, report ${phases.report_request_ms}, first frame's history ${phases.history_request_ms ?? 'none: it came with the report'}; the server alone: report ${serverAlone.report_ms}, history ${serverAlone.history_at_end_ms}); ${POSITIONS} scrubs: median ${result.scrub_median_ms.toFixed(0)} ms, worst ${result.scrub_worst_ms.toFixed(0)} ms`,
  )
  writeFileSync(path.join(repo, 'bench/results/replay-browser.json'), JSON.stringify(result, null, 2) + '\n')
} finally {
  await browser?.close()
  await server.stop()
}
