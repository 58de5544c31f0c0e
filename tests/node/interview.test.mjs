// Interview sessions (issue 22) with the stock yjs + y-websocket client, run twice: on one
// `tierboard serve` (a SQLite file, no Redis; host, candidate and observers all on it) and on three
// processes sharing PostgreSQL and Redis (each participant on another instance). All started with
// --hide-solutions.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  TestServer, connect, rawSocket, sleep, waitFor, PG_URL, REDIS_URL, requirePostgres, requireRedis,
} from './harness.mjs';

const PROBLEM = 'tutorial-simple-blog';

async function createInterview(server) {
  const res = await fetch(`${server.http}/api/rooms`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ problem: PROBLEM, mode: 'interview' }),
  });
  assert.equal(res.status, 201);
  return res.json();
}

async function post(server, path, body) {
  const res = await fetch(`${server.http}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const act = (server, room, token, action) => post(server, `/api/rooms/${room}/host?token=${token}`, action);
const latest = (client, type) => [...client.provider.tierboard].reverse().find((m) => m.type === type);

/** Long strings of a JSON value: the distinctive text of a reference design or an analysis. */
function longStrings(value, out = []) {
  if (typeof value === 'string') { if (value.length >= 24) out.push(value); }
  else if (Array.isArray(value)) value.forEach((v) => longStrings(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => longStrings(v, out));
  return out;
}

/** Starts the servers of one run: `servers[0..3]` are where the tests put their participants. */
async function oneInstance() {
  const s = await TestServer.start({ extraArgs: ['--hide-solutions'] });
  return [s, s, s];
}

async function threeInstances() {
  await requirePostgres();
  await requireRedis();
  const servers = [];
  for (let i = 0; i < 3; i++) {
    servers.push(await TestServer.start({
      databaseUrl: PG_URL, extraArgs: ['--redis-url', REDIS_URL, '--hide-solutions'],
    }));
  }
  return servers;
}

for (const [title, start] of [['on one instance', oneInstance], ['across three instances', threeInstances]]) describe(`interview sessions ${title}`, () => {
  const servers = [];
  const clients = [];
  const open = async (...args) => { const c = await connect(...args); clients.push(c); return c; };

  before(async () => {
    servers.push(...await start());
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const s of new Set(servers)) await s.stop();
  });

  test('a candidate cannot edit while locked or while another participant drives', async () => {
    const [a, b, c] = servers;
    const { room, tokens } = await createInterview(a);
    const host = await open(a.ws, room, tokens.host, { name: 'host' });
    const candidate = await open(b.ws, room, tokens.edit, { name: 'candidate' });
    const other = await open(c.ws, room, tokens.edit, { name: 'other' });

    assert.equal((await act(b, room, tokens.edit, { action: 'lock' })).status, 403);
    const locked = await act(a, room, tokens.host, { action: 'lock' });
    assert.equal(locked.status, 200);
    await waitFor(() => latest(candidate, 'interview')?.state.locked === true, 2000, 'the lock on B');
    candidate.doc.getMap('nodes').set('while-locked', { type: 'app', label: 'x', x: 0, y: 0 });
    await waitFor(() => latest(candidate, 'error')?.code === 'locked', 2000, 'a locked error');
    await sleep(500);
    assert.equal(host.doc.getMap('nodes').has('while-locked'), false, 'a locked edit reached the host');

    await act(a, room, tokens.host, { action: 'unlock' });
    // `other` drives: its awareness client id is what the host picks.
    await sleep(300);
    const driver = other.doc.clientID;
    assert.equal((await act(a, room, tokens.host, { action: 'driver', client: driver })).status, 200);
    const fresh = await open(b.ws, room, tokens.edit, { name: 'fresh' });
    await waitFor(() => latest(fresh, 'interview')?.state.driver === driver, 2000, 'the driver on B');
    fresh.doc.getMap('nodes').set('not-driving', { type: 'app', label: 'y', x: 0, y: 0 });
    await waitFor(() => latest(fresh, 'error')?.code === 'not_driver', 2000, 'a not_driver error');
    other.doc.getMap('nodes').set('driving', { type: 'app', label: 'z', x: 0, y: 0 });
    await waitFor(() => host.doc.getMap('nodes').has('driving'), 3000, "the driver's edit on A");
    assert.equal(host.doc.getMap('nodes').has('not-driving'), false);
  });

  test('a rotated link is closed with 4401 on every instance and does not come back', async () => {
    const { room, tokens } = await createInterview(servers[0]);
    const held = [];
    for (const s of servers) held.push(await open(s.ws, room, tokens.edit));
    const viewer = await open(servers[2].ws, room, tokens.view);
    const started = Date.now();
    const { status, json } = await post(servers[1], `/api/rooms/${room}/rotate?token=${tokens.host}`, { role: 'edit' });
    assert.equal(status, 200);
    await waitFor(() => held.every((c) => c.provider.closeEvents.includes(4401)), 1000, 'every holder closed with 4401');
    console.log(`# rotated link closed on three instances after ${Date.now() - started} ms`);
    await sleep(1500);
    for (const c of held) assert.equal(c.provider.wsconnected, false, 'a revoked client reconnected');
    assert.equal(viewer.provider.wsconnected, true, 'the view link was not rotated');
    const fresh = await open(servers[2].ws, room, json.token);
    assert.equal(latest(fresh, 'session').role, 'edit');
  });

  test('a candidate connection receives no byte of the reference, analysis, unrevealed hints or notes', async () => {
    const [a, , c] = servers;
    const { room, tokens } = await createInterview(a);
    const answer = await (await fetch(`${a.http}/api/rooms/${room}/solution?token=${tokens.host}`)).json();
    assert.equal((await fetch(`${c.http}/api/rooms/${room}/solution?token=${tokens.edit}`)).status, 403);
    assert.equal((await fetch(`${c.http}/api/problems/${PROBLEM}/solution`)).status, 404);
    const raw = rawSocket(`${c.ws}/${room}?token=${tokens.edit}`);
    await raw.opened;
    const host = await open(a.ws, room, tokens.host, { name: 'host' });
    const notes = 'talked past the write path; probe consistency next';
    for (const action of [
      { action: 'notes', text: notes }, { action: 'reveal_hint', index: 1 }, { action: 'clock_start' },
    ]) assert.equal((await act(a, room, tokens.host, action)).status, 200);
    await waitFor(() => latest(host, 'host')?.notes === notes, 2000, 'the notes on the host');
    await sleep(1000);
    const wire = Buffer.concat(raw.received.map((m) => Buffer.from(m.data))).toString('latin1');
    const utf8 = Buffer.from(wire, 'latin1').toString('utf8');
    assert.ok(utf8.includes(answer.hints[1]), 'the revealed hint arrived');
    assert.ok(!utf8.includes(notes), 'host notes on the wire');
    answer.hints.forEach((h, i) => { if (i !== 1) assert.ok(!utf8.includes(h), `unrevealed hint ${i} on the wire`); });
    const secret = longStrings([answer.reference_solution, answer.analysis]);
    assert.ok(secret.length > 3);
    for (const s of secret) assert.ok(!utf8.includes(s), `answer text on the wire: ${s.slice(0, 60)}`);
    assert.ok(!utf8.includes(tokens.host), 'the host token on the wire');
    raw.ws.close();
  });

  test('the clock agrees across instances', async () => {
    const { room, tokens } = await createInterview(servers[0]);
    const watchers = [];
    for (const s of servers) watchers.push(await open(s.ws, room, tokens.view));
    const { json } = await act(servers[1], room, tokens.host, { action: 'clock_start' });
    const endsAt = json.clock.ends_at;
    assert.ok(endsAt > Date.now());
    await waitFor(() => watchers.every((w) => latest(w, 'interview')?.state.clock.ends_at === endsAt), 1000,
      'every instance to show the same end');
    // The remaining time each shows, from the server's `now` in its message, differs by under 100 ms.
    const remaining = watchers.map((w) => { const m = latest(w, 'interview'); return m.state.clock.ends_at - m.now; });
    assert.ok(Math.max(...remaining) - Math.min(...remaining) < 100, `remaining: ${remaining}`);
    const paused = await act(servers[2], room, tokens.host, { action: 'clock_pause' });
    await waitFor(() => watchers.every((w) => latest(w, 'interview')?.state.clock.paused_remaining_ms
      === paused.json.clock.paused_remaining_ms), 1000, 'the pause everywhere');
  });
});
