// Writes the client's test fixtures from the server's real output: starts `tierboard serve` on port 0
// with a scratch SQLite file, posts each design below to `POST /api/validate` (docs/PROTOCOL.md §4)
// and the simulation cases to `POST /api/simulate` (§6),
// reads the problems below with `GET /api/problems/{id}` and `/solution`, and writes the answers to
// src/testing/fixtures/.
//
//   npm run fixtures              regenerate (then commit the result)
//   npm run fixtures -- --check   fail when the committed fixtures differ from what the server answers now
//
// The server binary is TIERBOARD_BIN, default target/debug/tierboard (`cargo build -p tierboard`).
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '../..')
const outDir = path.resolve(here, '../src/testing/fixtures')
const bin = path.resolve(repo, process.env.TIERBOARD_BIN ?? 'target/debug/tierboard')
const START_TIMEOUT_MS = 60_000

/**
 * The designs the unit tests need, by name. `partial` reaches T0 of the tutorial but not T1, and
 * carries one design issue (an unknown type) and one advisory (an isolated node).
 */
const CASES = {
  partial: {
    problem: 'tutorial-simple-blog',
    design: {
      nodes: [
        { id: 'c1', type: 'client', label: 'Readers', x: 0, y: 0, params: {} },
        { id: 'n1', type: 'app', label: 'App', x: 200, y: 0, params: {} },
        { id: 'd1', type: 'db_primary', label: 'DB', x: 400, y: 0, params: {} },
        { id: 'n4', type: 'cache', label: 'Cache', x: 200, y: 200, params: {} },
        { id: 'n7', type: 'foo', label: 'X', x: 400, y: 200, params: {} },
      ],
      edges: [
        { id: 'e1', from: 'c1', to: 'n1' },
        { id: 'e2', from: 'n1', to: 'd1' },
      ],
    },
  },
}

/**
 * Simulations the unit tests need (src/simulation.test.ts): a balancer over two app servers in front
 * of one database, at peak (the database is the bottleneck) and at 3× peak with one app failed.
 */
const LAYERED = {
  nodes: [
    { id: 'users', type: 'client', label: 'Users', x: 0, y: 0, params: {} },
    { id: 'lb', type: 'lb', label: 'LB', x: 200, y: 0, params: {} },
    { id: 'a1', type: 'app', label: 'App 1', x: 400, y: -80, params: {} },
    { id: 'a2', type: 'app', label: 'App 2', x: 400, y: 80, params: {} },
    { id: 'db', type: 'db_primary', label: 'DB', x: 600, y: 0, params: {} },
  ],
  edges: [
    { id: 'e1', from: 'users', to: 'lb' },
    { id: 'e2', from: 'lb', to: 'a1' },
    { id: 'e3', from: 'lb', to: 'a2' },
    { id: 'e4', from: 'a1', to: 'db' },
    { id: 'e5', from: 'a2', to: 'db' },
  ],
}
const SIMULATIONS = {
  peak: { problem: 'database-query-cache', design: LAYERED, scenario: { load: 'peak' } },
  spike_failed: { problem: 'database-query-cache', design: LAYERED, scenario: { load: 3, fail: ['a1'] } },
}

/**
 * Problems whose fields, together, cover every field of the file format (problems/README.md): the
 * learning views' field test renders them all (src/learn/fields.test.tsx).
 */
const PROBLEMS = ['tutorial-simple-blog', 'classic-twitter-x', 'l5-api-gateway-facebook']

async function getJson(url) {
  const res = await fetch(url)
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`)
  return res.json()
}

function fail(message) {
  console.error(`fixtures: ${message}`)
  process.exit(1)
}

/** Starts the server on port 0 and resolves with its base URL, read from its "listening" log line. */
function startServer(dir) {
  const proc = spawn(
    bin,
    ['serve', '--addr', '127.0.0.1:0', '--database-url', `sqlite://${dir}/fixtures.db`, '--problems', path.join(repo, 'problems')],
    { cwd: repo, env: { ...process.env, NO_COLOR: '1', RUST_LOG: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let log = ''
  const base = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server did not say where it listens within ${START_TIMEOUT_MS} ms:\n${log}`)),
      START_TIMEOUT_MS,
    )
    const read = (chunk) => {
      log += chunk.toString()
      const m = /tierboard listening addr=(\S+)/.exec(log)
      if (m) {
        clearTimeout(timer)
        resolve(`http://${m[1]}`)
      }
    }
    proc.stdout.on('data', read)
    proc.stderr.on('data', read)
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the server exited with ${code} before listening:\n${log}`))
    })
  })
  return { proc, base }
}

async function generate() {
  if (!existsSync(bin)) fail(`no server binary at ${bin}: run \`cargo build -p tierboard\` first (or set TIERBOARD_BIN)`)
  const dir = mkdtempSync(path.join(tmpdir(), 'tierboard-fixtures-'))
  const { proc, base } = startServer(dir)
  try {
    const url = await base
    const results = {}
    for (const [name, body] of Object.entries(CASES)) {
      const res = await fetch(`${url}/api/validate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      if (res.status !== 200) throw new Error(`POST /api/validate for '${name}' answered ${res.status}: ${await res.text()}`)
      results[name] = await res.json()
    }
    const simulations = {}
    for (const [name, body] of Object.entries(SIMULATIONS)) {
      const res = await fetch(`${url}/api/simulate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      if (res.status !== 200) throw new Error(`POST /api/simulate for '${name}' answered ${res.status}: ${await res.text()}`)
      simulations[name] = await res.json()
    }
    const problems = {}
    for (const id of PROBLEMS) {
      problems[id] = {
        problem: await getJson(`${url}/api/problems/${id}`),
        solution: await getJson(`${url}/api/problems/${id}/solution`),
      }
    }
    return {
      'validation.json': `${JSON.stringify(results, null, 2)}\n`,
      'problems.json': `${JSON.stringify(problems, null, 2)}\n`,
      'simulation.json': `${JSON.stringify(simulations, null, 2)}\n`,
    }
  } finally {
    proc.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}

const check = process.argv.includes('--check')
let files
try {
  files = await generate()
} catch (e) {
  fail(e.message)
}
for (const [name, text] of Object.entries(files)) {
  const out = path.join(outDir, name)
  const rel = path.relative(process.cwd(), out)
  if (check) {
    const committed = existsSync(out) ? readFileSync(out, 'utf8') : ''
    if (committed !== text) {
      const a = committed.split('\n')
      const b = text.split('\n')
      const line = a.findIndex((l, i) => l !== b[i])
      fail(
        `${rel} is not what the server answers now (first difference at line ${line + 1}:\n` +
          `  committed: ${a[line] ?? '(end of file)'}\n  server:    ${b[line] ?? '(end of file)'})\n` +
          'run `npm --prefix client run fixtures` and commit the result',
      )
    }
    console.log(`fixtures: ${rel} is current`)
  } else {
    mkdirSync(outDir, { recursive: true })
    writeFileSync(out, text)
    console.log(`fixtures: wrote ${rel}`)
  }
}
