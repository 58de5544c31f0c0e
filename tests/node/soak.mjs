// Soak load generator (issue 25): a mixed load against a running tierboard server for a fixed time,
// then a convergence check and the memory verdict. `scripts/soak` starts the server, samples its
// resident memory into a CSV and runs this; see README ("Benchmarks") and BENCHMARKS.md ("Soak").
//
//   node tests/node/soak.mjs --http http://127.0.0.1:PORT [--http2 http://...] --pid PID --log FILE
//        --rss-csv FILE --out FILE --minutes 60 [--warmup-min 5] [--window-min 10]
//
// Every loop is bounded: a fixed number of rooms and of long-lived clients, joiners that leave again,
// one hostile action at a time. Honest clients are the stock yjs + y-websocket client; hostile ones are
// raw `ws` sockets or raw TCP. Clients connect from several 127.x addresses (any 127.x reaches a
// loopback listener), so the server's per-address connection cap (256 by default) stays in force and
// is tested by the slowloris client rather than switched off.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import * as decoding from 'lib0/decoding';

// ---------------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = {
    minutes: 60, warmupMin: null, windowMin: null, rooms: 8, editorsPerRoom: 2, presencePerRoom: 3,
    editMs: 1000, presenceHz: [10, 20], joinEveryMs: 2000, joinStaySec: [5, 30], hostileEverySec: 15,
    roomMinutes: 10, hostile: 'all', http: null, http2: null, pid: null, pid2: null, log: null, log2: null, rssCsv: null, out: null, seed: 1,
  };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
    const v = argv[++i];
    if (!(k in o)) throw new Error(`unknown option --${argv[i - 1].replace(/^--/, '')}`);
    o[k] = typeof o[k] === 'number' || k === 'warmupMin' || k === 'windowMin' ? Number(v)
      : Array.isArray(o[k]) ? v.split(',').map(Number) : v;
  }
  if (!o.http || !o.pid || !o.rssCsv || !o.out || !o.log) {
    throw new Error('--http, --pid, --log, --rss-csv and --out are required');
  }
  // Warm-up: one room lifetime (10 minutes for an hour). Until every room slot has been through one
  // whole life (staggered first lifetimes, then leave, unload, replace), the server's memory is still
  // growing into its steady state: allocator arenas, the update log's indexes, caches of rooms that
  // come back. The 2026-12-04 run rose 68 -> 74 MB over minutes 5-10 and then 74.0 -> 76.2 MB over the
  // following 50. A short try (under 30 minutes) scales it down: 1 minute and windows of 2.5 for 6.
  if (o.warmupMin === null) {
    o.warmupMin = o.minutes >= 30 ? o.roomMinutes : Math.max(1, Math.round(o.minutes / 12));
  }
  if (o.windowMin === null) o.windowMin = Math.min(10, (o.minutes - o.warmupMin) / 2);
  return o;
}

const opt = parseArgs(process.argv);
const started = Date.now();
const endAt = started + opt.minutes * 60_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const running = () => Date.now() < endAt;
const log = (...a) => console.log(`[soak ${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s]`, ...a);
process.setMaxListeners(1000); // every stock provider adds a process 'exit' listener

// A small deterministic PRNG, so that two runs make the same choices.
let seed = opt.seed >>> 0 || 1;
const rand = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 2 ** 32; };
const between = (a, b) => a + rand() * (b - a);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];

const bases = [opt.http, opt.http2].filter(Boolean);
const wsBase = (i) => bases[i % bases.length].replace(/^http/, 'ws') + '/ws';

// ---------------------------------------------------------------------------------------------------
// Counters

const counts = {
  edits: 0, presence_updates: 0, joins: 0, leaves: 0, join_failures: 0, reconnects: 0,
  honest_closes: {}, hostile: {},
};
const bump = (obj, k, n = 1) => { obj[k] = (obj[k] ?? 0) + n; };
function hostileResult(kind, outcome) {
  counts.hostile[kind] ??= { runs: 0, outcomes: {} };
  counts.hostile[kind].runs++;
  bump(counts.hostile[kind].outcomes, outcome);
}

// ---------------------------------------------------------------------------------------------------
// Clients

// Source addresses: honest clients spread over 127.0.1.x, hostile ones over 127.0.2.x.
let honestAddr = 0;
const nextHonestAddr = () => `127.0.1.${1 + (honestAddr++ % 50)}`;
let hostileAddr = 0;
const nextHostileAddr = () => `127.0.2.${1 + (hostileAddr++ % 50)}`;

/** `ws` bound to a source address, as the stock provider's WebSocketPolyfill. */
function boundWebSocket(localAddress) {
  return class extends WebSocket {
    constructor(url, protocols) { super(url, protocols, { localAddress }); }
  };
}

/** A stock y-websocket client; resolves once synced (or rejects after `timeout`). */
async function honestClient(base, room, token, name, timeout = 20000) {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(base, room, doc, {
    WebSocketPolyfill: boundWebSocket(nextHonestAddr()), params: { token }, disableBc: true,
  });
  // tierboard's own messages (type 100): read and ignore, instead of the stock "unknown type" log.
  provider.messageHandlers[100] = (_e, decoder) => { decoding.readVarString(decoder); };
  let first = true;
  provider.on('status', ({ status }) => {
    if (status === 'connected') { if (!first) counts.reconnects++; first = false; }
  });
  provider.on('connection-close', (ev) => { if (ev) bump(counts.honest_closes, String(ev.code)); });
  provider.awareness.setLocalStateField('user', { name, color: '#2563eb' });
  const end = Date.now() + timeout;
  while (!provider.synced) {
    if (Date.now() > end) { provider.destroy(); doc.destroy(); throw new Error(`${name}: no sync in ${timeout} ms`); }
    await sleep(20);
  }
  return { doc, provider, close: () => { provider.destroy(); doc.destroy(); } };
}

async function createRoom() {
  for (;;) {
    const res = await fetch(`${opt.http}/api/rooms`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ problem: 'tutorial-simple-blog' }),
    });
    if (res.status === 201) return res.json();
    if (res.status === 429) { await sleep(Number(res.headers.get('retry-after') ?? 2) * 1000); continue; }
    throw new Error(`POST /api/rooms: ${res.status} ${await res.text()}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Honest load

/**
 * An editor moves and relabels its own nodes (a bounded set of 12 keys, so the document stays the
 * size of a design, not of the hour) and now and then a node every editor of the room shares.
 * `written` is what it last wrote per key: after the run every client must read exactly this.
 */
async function editorLoop(room, idx, editor) {
  const nodes = editor.doc.getMap('nodes');
  const written = editor.written;
  let n = 0;
  const on = () => running() && !room.ended;
  while (on()) {
    await sleep(between(opt.editMs * 0.5, opt.editMs * 1.5));
    if (!on()) break;
    const shared = rand() < 0.1;
    const key = shared ? 'shared' : `e${idx}-n${Math.floor(rand() * 12)}`;
    const value = `${idx}:${n++}`;
    editor.doc.transact(() => {
      let node = nodes.get(key);
      if (!(node instanceof Y.Map) || rand() < 0.05) {
        node = new Y.Map();
        node.set('type', 'service');
        node.set('params', new Y.Map());
        nodes.set(key, node);
      }
      node.set('label', value);
      node.set('x', Math.round(between(-500, 500)));
      node.set('y', Math.round(between(-500, 500)));
    });
    if (!shared) written.set(key, value);
    counts.edits++;
  }
}

/** A participant moving its cursor at `hz` (10–20 Hz), as a pointer does while someone works. */
async function presenceLoop(room, client) {
  const hz = between(opt.presenceHz[0], opt.presenceHz[1]);
  let x = 0; let y = 0;
  while (running() && !room.ended) {
    await sleep(1000 / hz);
    x += between(-8, 8); y += between(-8, 8);
    client.provider.awareness.setLocalStateField('cursor', { x: Math.round(x), y: Math.round(y) });
    if (client.provider.wsconnected) counts.presence_updates++;
  }
}

/** Clients that join a random room (edit or view link), stay a while with presence, and leave. */
async function joinLoop(live) {
  const inflight = new Set();
  let n = 0;
  while (running()) {
    await sleep(between(opt.joinEveryMs * 0.5, opt.joinEveryMs * 1.5));
    if (!running() || inflight.size > 40 || live.size === 0) continue;
    const r = pick([...live]);
    const token = rand() < 0.5 ? r.tokens.edit : r.tokens.view;
    const stay = between(opt.joinStaySec[0], opt.joinStaySec[1]) * 1000;
    const p = (async () => {
      let c;
      try {
        c = await honestClient(wsBase(n++), r.room, token, `joiner-${n}`);
        counts.joins++;
      } catch (e) { counts.join_failures++; log(`join failed: ${e.message}`); return; }
      const until = Math.min(Date.now() + stay, endAt);
      while (Date.now() < until && !r.ended) {
        await sleep(200);
        c.provider.awareness.setLocalStateField('cursor', { x: Math.round(between(0, 900)), y: 0 });
        counts.presence_updates++;
      }
      c.close();
      counts.leaves++;
    })();
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  }
  await Promise.all(inflight);
}

// ---------------------------------------------------------------------------------------------------
// Hostile clients (issue 25's items)

const enc = {
  varuint(n) {
    const out = [];
    for (;;) { if (n < 0x80) { out.push(n); return out; } out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); }
  },
  buf(b) { return Buffer.concat([Buffer.from(enc.varuint(b.length)), b]); },
  str(s) { return enc.buf(Buffer.from(s, 'utf8')); },
  /** `[1, varUint8Array [count, (id, clock, state)*]]` */
  awareness(entries) {
    const parts = [Buffer.from(enc.varuint(entries.length))];
    for (const [id, clock, state] of entries) {
      parts.push(Buffer.from(enc.varuint(id)), Buffer.from(enc.varuint(clock)), enc.str(state));
    }
    return Buffer.concat([Buffer.from([1]), enc.buf(Buffer.concat(parts))]);
  },
  update(payload) { return Buffer.concat([Buffer.from([0, 2]), enc.buf(payload)]); },
};

/** A raw socket from a hostile address; `closed` resolves with the close code (1006: no close frame). */
function rawWs(url) {
  const ws = new WebSocket(url, { localAddress: nextHostileAddr(), maxPayload: 256 << 20 });
  const closed = new Promise((res) => ws.on('close', (code) => res(code)));
  ws.on('error', () => {});
  const opened = new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); ws.once('close', () => rej(new Error('closed before open'))); });
  return { ws, closed, opened };
}

const within = (p, ms, fallback) => Promise.race([p, sleep(ms).then(() => fallback)]);

/** Sends `frames` and reports how the server ended the connection (or 'open' if it did not). */
async function sendAndWatch(url, frames, holdMs) {
  const s = rawWs(url);
  try { await s.opened; } catch (e) { return `refused (${e.message.slice(0, 40)})`; }
  for (const f of frames) s.ws.send(f);
  const code = await within(s.closed, holdMs, 'open');
  if (code === 'open') { s.ws.terminate(); }
  return String(code);
}

const POISON = Buffer.from([1, 1, 1, 0, 0x82, 9, 0, 0, 1, '1'.charCodeAt(0), 0]);

const hostile = {
  /** Item 1: a reader that stops reading while asking for every presence state, again and again. */
  async stuck_reader(r) {
    const s = rawWs(`${wsBase(0)}/${r.room}?token=${r.tokens.view}`);
    try { await s.opened; } catch { return 'refused'; }
    s.ws._socket.pause(); // stop reading: the server's writes pile up in the kernel, then time out
    const queries = Buffer.alloc(32, 3); // 32 awareness queries: the most one frame may hold
    const t0 = Date.now();
    let outcome = null;
    s.closed.then((code) => { outcome ??= String(code); });
    while (outcome === null && Date.now() - t0 < 60_000) {
      if (s.ws.readyState === WebSocket.OPEN && s.ws.bufferedAmount < (1 << 20)) s.ws.send(queries);
      // A dropped connection shows as a reset or a failed write; ws reports 'close' once it does.
      await sleep(50);
    }
    if (outcome === null) {
      // Still open from our side after a minute: see whether the server dropped it (reading resumes).
      s.ws._socket.resume();
      outcome = await within(s.closed, 10_000, 'not dropped in 70 s');
      if (outcome === 'not dropped in 70 s') s.ws.terminate();
    }
    return `${outcome} after ${Math.round((Date.now() - t0) / 1000 / 5) * 5} s`;
  },

  /** Item 2: one frame of four million awareness queries (4 MB). */
  async tiny_queries(r) {
    return sendAndWatch(`${wsBase(0)}/${r.room}?token=${r.tokens.view}`, [Buffer.alloc(4 << 20, 3)], 20_000);
  },

  /** Item 3: a tiny presence state in a frame padded with 8 MB (an update a view link may send). */
  async padded_frame(r) {
    const frame = Buffer.concat([
      enc.awareness([[900_000_000 + Math.floor(rand() * 1e6), 1, '{"user":{"name":"tiny"}}']]),
      enc.update(Buffer.alloc(8 << 20, 7)),
    ]);
    return sendAndWatch(`${wsBase(0)}/${r.room}?token=${r.tokens.view}`, [frame], 20_000);
  },

  /** Item 3: one presence entry whose state is padded to 1 MB of JSON. */
  async large_entry(r) {
    const state = JSON.stringify({ user: { name: 'big' }, pad: 'x'.repeat(1 << 20) });
    return sendAndWatch(`${wsBase(0)}/${r.room}?token=${r.tokens.view}`,
      [enc.awareness([[910_000_000 + Math.floor(rand() * 1e6), 1, state]])], 20_000);
  },

  /** Item 5: 100,000 fake participants in one awareness message, then a few more batches. */
  async fake_ids(r) {
    const base = 920_000_000 + Math.floor(rand() * 1e6);
    const frames = [];
    for (let b = 0; b < 4; b++) {
      frames.push(enc.awareness(Array.from({ length: 25_000 }, (_, i) => [base + b * 25_000 + i, 1, '{"user":{"name":"IMPOSTOR"}}'])));
    }
    return sendAndWatch(`${wsBase(0)}/${r.room}?token=${r.tokens.view}`, frames, 20_000);
  },

  /** Item 10 / the size limit: a 40 MB update (above the 32 MiB default). */
  async oversized(r) {
    return sendAndWatch(`${wsBase(0)}/${r.room}?token=${r.tokens.view}`, [enc.update(Buffer.alloc(40 << 20, 7))], 30_000);
  },

  /** Item 4: the 11-byte ContentJSON update that crashed a room, sent as a sync update by an editor. */
  async poison(r) {
    const code = await sendAndWatch(`${wsBase(0)}/${r.room}?token=${r.tokens.edit}`, [enc.update(POISON)], 5_000);
    // The room must still serve a joiner afterwards (the crash came at the next sync step 1).
    try {
      const c = await honestClient(wsBase(0), r.room, r.tokens.view, 'after-poison', 15_000);
      c.close();
      return `${code}, room alive`;
    } catch (e) {
      return `${code}, room dead (a joiner could not sync in 15 s)`;
    }
  },

  /** Item 6: 100 half-open upgrade requests (50 trickling header bytes, 50 silent). */
  async slowloris() {
    const { hostname, port } = new URL(opt.http);
    const socks = [];
    for (let i = 0; i < 100; i++) {
      const sock = net.connect({ host: hostname, port: Number(port), localAddress: nextHostileAddr() });
      sock.on('error', () => {});
      sock.closedAt = null;
      sock.on('close', () => { sock.closedAt = Date.now(); });
      sock.trickle = i % 2 === 0;
      socks.push(sock);
    }
    const head = 'GET /ws/x?token=y HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n';
    const t0 = Date.now();
    let pos = 0;
    while (Date.now() - t0 < 30_000 && socks.some((s) => s.closedAt === null)) {
      for (const s of socks) if (s.trickle && s.closedAt === null && !s.destroyed) s.write(head[pos % head.length]);
      pos++;
      await sleep(1000);
    }
    const closed = socks.filter((s) => s.closedAt !== null).length;
    const slowest = Math.max(0, ...socks.filter((s) => s.closedAt).map((s) => s.closedAt - t0));
    socks.forEach((s) => s.destroy());
    return `${closed}/100 closed by the server within 30 s` + (closed ? ` (last after ${Math.ceil(slowest / 5000) * 5} s)` : '');
  },
};

async function hostileLoop(live) {
  if (opt.hostile === 'none') return;
  const kinds = opt.hostile === 'all' ? Object.keys(hostile) : opt.hostile.split(',');
  for (const k of kinds) if (!hostile[k]) throw new Error(`unknown hostile client ${k}; known: ${Object.keys(hostile)}`);
  let i = 0;
  while (running()) {
    await sleep(opt.hostileEverySec * 1000);
    if (!running() || live.size === 0) continue;
    const kind = kinds[i++ % kinds.length];
    const r = pick([...live]);
    let outcome;
    try { outcome = await hostile[kind](r); } catch (e) { outcome = `error: ${e.message}`; }
    hostileResult(kind, outcome);
    log(`hostile ${kind}: ${outcome}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// The run

async function healthz(base = opt.http) {
  try {
    const res = await fetch(`${base}/healthz`);
    return res.ok ? res.json() : null;
  } catch { return null; }
}

function alive(pid) { try { process.kill(pid, 0); return true; } catch { return false; } }

const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * One room slot: a room lives `roomMinutes` (an interview), with its editors and presence clients,
 * then everyone leaves, its document is checked and a new room takes the slot. The first lifetimes are
 * staggered so that rooms end one at a time. Rooms coming and going is part of the load: a room
 * unloads 30 s after its last client leaves, and what it held must be released.
 */
async function roomSlot(slot, live, convergence) {
  let lifetime = opt.roomMinutes * 60_000 * (slot + 1) / opt.rooms;
  let k = slot * 100;
  while (running()) {
    const r = await createRoom();
    r.ended = false;
    r.editors = []; r.presence = [];
    try {
      for (let e = 0; e < opt.editorsPerRoom; e++) {
        const c = await honestClient(wsBase(k++), r.room, r.tokens.edit, `editor-${slot}-${e}`);
        c.written = new Map();
        r.editors.push(c);
      }
      for (let p = 0; p < opt.presencePerRoom; p++) {
        r.presence.push(await honestClient(wsBase(k++), r.room, p % 2 ? r.tokens.view : r.tokens.edit, `presence-${slot}-${p}`));
      }
    } catch (e) {
      log(`room ${r.room}: ${e.message}`);
      [...r.editors, ...r.presence].forEach((c) => c.close());
      counts.join_failures++;
      await sleep(5000);
      continue;
    }
    counts.rooms_started = (counts.rooms_started ?? 0) + 1;
    live.add(r);
    const roomEnd = Math.min(Date.now() + lifetime, endAt);
    lifetime = opt.roomMinutes * 60_000;
    const loops = [
      ...r.editors.map((c, i) => editorLoop(r, `${slot}.${i}`, c)),
      ...r.presence.map((c) => presenceLoop(r, c)),
    ];
    while (Date.now() < roomEnd) await sleep(Math.min(1000, Math.max(1, roomEnd - Date.now())));
    r.ended = true;
    live.delete(r);
    await Promise.all(loops);
    await checkRoom(r, convergence);
    [...r.editors, ...r.presence].forEach((c) => c.close());
  }
}

/**
 * Convergence of one room: once its clients are connected and synced again (a hostile client may
 * have had the room reloaded), a fresh client on each server must read what every editor last wrote
 * to its own nodes and the same nodes as every honest client of the room.
 */
async function checkRoom(r, convergence) {
  const everyone = [...r.editors, ...r.presence];
  const settleEnd = Date.now() + 60_000;
  while (Date.now() < settleEnd && !everyone.every((c) => c.provider.wsconnected && c.provider.synced)) await sleep(200);
  await sleep(2000); // in-flight updates
  const expected = new Map(r.editors.flatMap((c) => [...c.written]));
  const problems = [];
  const canon = (m) => JSON.stringify(Object.keys(m).sort().map((k) => [k, m[k]]));
  for (let b = 0; b < bases.length; b++) {
    let fresh;
    try { fresh = await honestClient(wsBase(b), r.room, r.tokens.view, 'checker'); } catch (e) {
      problems.push(`fresh client on ${bases[b]}: ${e.message}`);
      continue;
    }
    const got = fresh.doc.getMap('nodes').toJSON();
    for (const [key, value] of expected) {
      if (got[key]?.label !== value) problems.push(`${key}: fresh client has ${got[key]?.label}, editor wrote ${value}`);
    }
    const want = canon(got);
    for (const c of everyone) {
      if (canon(c.doc.getMap('nodes').toJSON()) !== want) problems.push(`${c.provider.awareness.getLocalState()?.user?.name} differs from a fresh client`);
    }
    fresh.close();
  }
  convergence.rooms++;
  if (problems.length) {
    convergence.failures.push({ room: r.room, problems: problems.slice(0, 5) });
    log(`room ${r.room} did NOT converge: ${problems.slice(0, 3).join('; ')}`);
  } else convergence.ok++;
}

async function main() {
  log(`${opt.minutes} min: warm-up ${opt.warmupMin} min, windows ${opt.windowMin} min; ${opt.rooms} rooms of ` +
    `${opt.roomMinutes} min, ${opt.editorsPerRoom} editors + ${opt.presencePerRoom} presence clients each; servers ${bases.join(' ')}`);
  const live = new Set();
  const convergence = { rooms: 0, ok: 0, failures: [] };
  const slots = Array.from({ length: opt.rooms }, (_, slot) => roomSlot(slot, live, convergence));

  const progress = setInterval(async () => {
    const h = await healthz();
    log(`edits ${counts.edits}, presence ${counts.presence_updates}, joins ${counts.joins}, rooms done ${convergence.rooms}, ` +
      `reconnects ${counts.reconnects}; server: ${h ? `${h.connections} connections, ${h.rooms} rooms` : 'NO /healthz'}`);
  }, 60_000);
  await Promise.all([...slots, joinLoop(live), hostileLoop(live)]);
  clearInterval(progress);
  log(`load stopped; ${convergence.ok}/${convergence.rooms} rooms converged`);

  // Memory: the server's resident set, sampled every 10 s by scripts/soak.
  const rows = readFileSync(opt.rssCsv, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  const w0 = opt.warmupMin * 60; const w = opt.windowMin * 60; const total = opt.minutes * 60;
  const first = rows.filter(([t]) => t >= w0 && t < w0 + w).map((r) => r[1]);
  const last = rows.filter(([t]) => t >= total - w && t <= total).map((r) => r[1]);
  const all = rows.filter(([t]) => t <= total).map((r) => r[1]);
  const firstMb = median(first) / 1024; const lastMb = median(last) / 1024;
  const ratio = lastMb / firstMb;
  const memoryOk = Number.isFinite(ratio) && Math.abs(ratio - 1) <= 0.10;
  // Where the memory is (columns 3 and 4, kB, from /metrics): medians of the same two windows.
  const part = (col) => {
    const a = median(rows.filter(([t]) => t >= w0 && t < w0 + w).map((r) => r[col]).filter((x) => x > 0)) / 1024;
    const b = median(rows.filter(([t]) => t >= total - w && t <= total).map((r) => r[col]).filter((x) => x > 0)) / 1024;
    return { first_window_median: +a.toFixed(1), last_window_median: +b.toFixed(1) };
  };

  // The server: alive, healthy, and what it logged.
  const h = await healthz();
  let serverAlive = alive(Number(opt.pid)) && h !== null;
  if (opt.http2) serverAlive &&= alive(Number(opt.pid2)) && (await healthz(opt.http2)) !== null;
  const text = [opt.log, opt.log2].filter((f) => f && existsSync(f)).map((f) => readFileSync(f, 'utf8')).join('\n');
  const lines = text.split('\n');
  const level = (lvl) => lines.filter((l) => new RegExp(`\\b${lvl}\\b`).test(l.slice(0, 64))).length;
  const panics = lines.filter((l) => /panicked at/.test(l)).length;
  const messages = {};
  for (const l of lines) {
    if (!/\b(ERROR|WARN)\b/.test(l.slice(0, 64))) continue;
    const m = l.replace(/^.*?\b(ERROR|WARN)\b\s+/, '$1 ').replace(/\s+\w+=\S+/g, '').replace(/\d+/g, 'N').slice(0, 120);
    bump(messages, m);
  }

  const pass = memoryOk && serverAlive && convergence.failures.length === 0 && panics === 0;
  const result = {
    pass, date: new Date(started).toISOString(), minutes: opt.minutes, warmup_min: opt.warmupMin, window_min: opt.windowMin,
    load: {
      rooms_at_once: opt.rooms, room_minutes: opt.roomMinutes, editors_per_room: opt.editorsPerRoom,
      presence_clients_per_room: opt.presencePerRoom, edit_ms: opt.editMs, hostile: opt.hostile,
      presence_hz: opt.presenceHz, join_every_ms: opt.joinEveryMs, hostile_every_s: opt.hostileEverySec, servers: bases.length,
    },
    rss_mb: {
      first_window_median: +firstMb.toFixed(1), last_window_median: +lastMb.toFixed(1), ratio: +ratio.toFixed(3),
      within_10_percent: memoryOk, min: +(Math.min(...all) / 1024).toFixed(1), max: +(Math.max(...all) / 1024).toFixed(1),
      samples: all.length, first_samples: first.length, last_samples: last.length,
    },
    sqlite_mb: part(3),
    heap_committed_mb: part(4),
    counts,
    convergence,
    server: { alive_and_healthy: serverAlive, healthz: h, log_errors: level('ERROR'), log_warnings: level('WARN'), panics, messages },
  };
  writeFileSync(opt.out, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
  log(`RSS median first ${opt.windowMin} min after warm-up ${firstMb.toFixed(1)} MB, last ${opt.windowMin} min ` +
    `${lastMb.toFixed(1)} MB, ratio ${ratio.toFixed(3)}: ${memoryOk ? 'within' : 'OUTSIDE'} 10 %`);
  log(`server ${serverAlive ? 'alive, /healthz ok' : 'DEAD or unhealthy'}; convergence ${convergence.ok}/${convergence.rooms} rooms; ` +
    `${panics} panics, ${level('ERROR')} errors logged: ${pass ? 'PASS' : 'FAIL'}`);
  process.exit(pass ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(2); });
