// Test harness: runs a real `tierboard serve` process and drives it with the stock npm clients.
import { spawn } from 'node:child_process';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const BIN = process.env.TIERBOARD_BIN ?? join(repoRoot, 'target', 'debug', 'tierboard');
export const PG_URL = process.env.TIERBOARD_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TIERBOARD_TEST_REDIS ?? 'redis://127.0.0.1:6379';

if (!existsSync(BIN)) {
  throw new Error(`server binary not found at ${BIN}: run \`cargo build\` first (or set TIERBOARD_BIN)`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it returns a truthy value or `ms` pass. */
export async function waitFor(cond, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** Fails with a clear message when a service the test needs is down. */
export async function requireService(host, port, howToStart) {
  await new Promise((res, rej) => {
    const sock = net.connect(port, host);
    sock.setTimeout(2000);
    sock.on('connect', () => { sock.destroy(); res(); });
    const fail = () => { sock.destroy(); rej(new Error(`${host}:${port} is not reachable: ${howToStart}`)); };
    sock.on('error', fail);
    sock.on('timeout', fail);
  });
}

export const requirePostgres = () => requireService('127.0.0.1', 5432,
  "start PostgreSQL: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start");
export const requireRedis = () => requireService('127.0.0.1', 6379,
  "start Redis: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no");

export function sqliteUrl() {
  const dir = mkdtempSync(join(tmpdir(), 'tierboard-test-'));
  return `sqlite://${join(dir, 'test.db')}`;
}

/** A running server process. `restart()` reuses its port and database. */
export class TestServer {
  constructor({ databaseUrl, port, extraArgs = [], env = {} }) {
    this.databaseUrl = databaseUrl;
    this.port = port;
    this.extraArgs = extraArgs;
    this.env = env;
    this.logs = '';
  }

  static async start(opts = {}) {
    const port = opts.port ?? (await freePort());
    const server = new TestServer({ databaseUrl: opts.databaseUrl ?? sqliteUrl(), port, ...opts });
    await server.spawn();
    return server;
  }

  get http() { return `http://127.0.0.1:${this.port}`; }
  get ws() { return `ws://127.0.0.1:${this.port}/ws`; }

  async spawn() {
    this.logs = '';
    const args = ['serve', '--addr', `127.0.0.1:${this.port}`, '--database-url', this.databaseUrl,
      '--problems', join(repoRoot, 'problems'), ...this.extraArgs];
    this.proc = spawn(BIN, args, {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG ?? 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (d) => { this.logs += d.toString(); };
    this.proc.stdout.on('data', collect);
    this.proc.stderr.on('data', collect);
    this.exited = new Promise((res) => this.proc.on('exit', (code, signal) => res({ code, signal })));
    await waitFor(async () => {
      if (this.proc.exitCode !== null) throw new Error(`server exited early:\n${this.logs}`);
      try { return (await fetch(`${this.http}/healthz`)).ok; } catch { return false; }
    }, 30000, 'server to answer /healthz');
  }

  /** SIGTERM (graceful) or SIGKILL; resolves with the exit status. */
  async stop(signal = 'SIGTERM') {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    this.proc.kill(signal);
    return this.exited;
  }

  async restart(signal = 'SIGTERM') {
    await this.stop(signal);
    await this.spawn();
  }

  async createRoom(problem = 'tutorial-simple-blog') {
    const res = await fetch(`${this.http}/api/rooms`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ problem }),
    });
    if (res.status !== 201) throw new Error(`POST /api/rooms: ${res.status} ${await res.text()}`);
    return res.json();
  }

  alive() { return this.proc && this.proc.exitCode === null && this.proc.signalCode === null; }
}

/** A stock y-websocket client. Resolves once synced. */
export async function connect(wsBase, room, token, { name, timeout = 10000 } = {}) {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(wsBase, room, doc, {
    WebSocketPolyfill: WebSocket,
    params: token === undefined ? {} : { token },
    disableBc: true,
  });
  provider.closeEvents = [];
  provider.tierboard = [];
  provider.on('connection-close', (event) => { if (event) provider.closeEvents.push(event.code); });
  // tierboard's own JSON messages (type 100): collect them instead of the stock "unknown type" log.
  provider.messageHandlers[100] = (_encoder, decoder) => {
    provider.tierboard.push(JSON.parse(decodeVarString(decoder)));
  };
  if (name) provider.awareness.setLocalStateField('user', { name });
  await waitFor(() => provider.synced, timeout, `client to sync with ${room}`);
  return { doc, provider, close: () => { provider.destroy(); doc.destroy(); } };
}

// lib0's decoding helpers, via y-protocols' dependency.
import * as decoding from 'lib0/decoding';
function decodeVarString(decoder) { return decoding.readVarString(decoder); }

/** A raw WebSocket for malformed-input tests: resolves with what it received and the close code. */
export function rawSocket(url) {
  const ws = new WebSocket(url);
  const received = [];
  const closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
  ws.on('message', (data, isBinary) => received.push({ data, isBinary }));
  const opened = new Promise((res, rej) => { ws.on('open', res); ws.on('error', rej); });
  return { ws, received, closed, opened };
}

export { Y };
