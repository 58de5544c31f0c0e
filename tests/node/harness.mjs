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

process.setMaxListeners(100); // every stock provider adds a process 'exit' listener

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
      '--problems', join(repoRoot, 'problems'),
      // Every test creates rooms from loopback: no per-address creation limit unless a test sets one.
      '--room-creations-per-minute', '0', ...this.extraArgs];
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

/** Adds a design node to a room's document, as docs/PROTOCOL.md §3 defines it. */
export function addNode(doc, id, type, label = id, params = {}) {
  const node = new Y.Map();
  node.set('type', type);
  node.set('label', label);
  node.set('x', 0);
  node.set('y', 0);
  node.set('params', new Y.Map(Object.entries(params)));
  doc.getMap('nodes').set(id, node);
}

/** Adds a design edge `from` → `to` (docs/PROTOCOL.md §3). */
export function addEdge(doc, id, from, to) {
  const edge = new Y.Map();
  edge.set('from', from);
  edge.set('to', to);
  doc.getMap('edges').set(id, edge);
}

/**
 * A TCP relay on 127.0.0.1 whose target can be switched: clients pointed at it follow the switch when
 * they reconnect (how a load balancer moves a dead instance's clients elsewhere). Connections open at
 * the time of a switch stay with their old target until it closes them.
 */
export class TcpSwitch {
  constructor(target) { this.target = target; this.sockets = new Set(); }

  static async start(target) {
    const sw = new TcpSwitch(target);
    sw.server = net.createServer((client) => {
      const upstream = net.connect(sw.target, '127.0.0.1');
      sw.sockets.add(client); sw.sockets.add(upstream);
      const end = () => { client.destroy(); upstream.destroy(); sw.sockets.delete(client); sw.sockets.delete(upstream); };
      client.on('error', end); upstream.on('error', end);
      client.on('close', end); upstream.on('close', end);
      client.pipe(upstream); upstream.pipe(client);
    });
    await new Promise((res) => sw.server.listen(0, '127.0.0.1', res));
    sw.port = sw.server.address().port;
    return sw;
  }

  get ws() { return `ws://127.0.0.1:${this.port}/ws`; }
  switchTo(target) { this.target = target; }
  async close() {
    for (const s of this.sockets) s.destroy();
    await new Promise((res) => this.server.close(res));
  }
}

/** A private Redis (no persistence) on a spare port, for outage tests. */
export class TestRedis {
  constructor(port) { this.port = port; }

  static async start(port) {
    const r = new TestRedis(port ?? (await freePort()));
    await r.spawn();
    return r;
  }

  get url() { return `redis://127.0.0.1:${this.port}`; }

  async spawn() {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no'], { stdio: 'ignore' });
    this.exited = new Promise((res) => this.proc.on('exit', res));
    this.proc.on('error', (e) => { throw new Error(`cannot start redis-server (apt-get install redis-server): ${e.message}`); });
    await waitFor(() => new Promise((res) => {
      const s = net.connect(this.port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); res(true); });
      s.on('error', () => res(false));
    }), 10000, `redis-server on port ${this.port}`);
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** JSON with object keys sorted at every depth. */
export function canonicalJson(value) {
  const sort = (v) => (Array.isArray(v) ? v.map(sort)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v);
  return JSON.stringify(sort(value));
}

/**
 * A document's content as canonical JSON. Key order is not part of the content: replicas insert map keys
 * in different orders, and an object value that passed through the server (yrs keeps objects as hash
 * maps) comes back with its keys in another order.
 */
export function docJson(doc) {
  return canonicalJson({ nodes: doc.getMap('nodes').toJSON(), notes: doc.getText('notes').toString() });
}

/** The `user.name` of every awareness state a client sees (its own included). */
export function awarenessNames(provider) {
  return [...provider.awareness.getStates().values()].map((s) => s.user?.name).filter(Boolean).sort();
}

/** The clock of a client's own edits in a state vector (0 when it holds none of them). */
export function ownClock(client, sv = Y.encodeStateVector(client.doc)) {
  return Y.decodeStateVector(sv).get(client.doc.clientID) ?? 0;
}

/**
 * Waits until the server has stored every edit this client has made so far: a `saved` message
 * (docs/PROTOCOL.md §2) whose state vector covers the client's own clock. Resolves with that message.
 */
export function waitSaved(client, ms = 5000) {
  const mine = ownClock(client);
  return waitFor(() => client.provider.tierboard.find((m) => m.type === 'saved'
    && ownClock(client, Buffer.from(m.sv, 'base64')) >= mine), ms, `the server to store the client's edits (clock ${mine})`);
}

/** Waits until `observer` holds the same content as `client` (the server has applied what `client` sent). */
export function waitSameContent(observer, client, ms = 5000, what = 'the edits to reach the server') {
  return waitFor(() => docJson(observer.doc) === docJson(client.doc), ms, what);
}

/** One Prometheus counter from a server's /metrics. */
export async function metric(server, name) {
  const text = await (await fetch(`${server.http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`metric ${name} not found`);
  return Number(line.split(' ')[1]);
}
