// Several instances, one room (issue 5): three `tierboard serve` processes on different ports, the real
// PostgreSQL and Redis, the stock yjs + y-websocket client.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  TestServer, TestRedis, TcpSwitch, connect, sleep, waitFor, waitSaved, waitSameContent, PG_URL, REDIS_URL,
  requirePostgres, requireRedis, awarenessNames, docJson, metric,
} from './harness.mjs';

// The healing bound stated in the README ("Guarantees") and docs/ARCHITECTURE.md ("Several instances"):
// after a Redis outage, rooms converge within 2.5 s of Redis accepting connections again (the 2 s
// reconnect backoff cap plus one reconcile round trip). The test asserts it; it waits a little longer
// only so that a miss reports by how much.
const BOUND_AFTER_REDIS_MS = 2500;
const REPORT_MS = 5000;

/** Waits until every client's document has the same content, and returns it. */
async function converged(clients, ms, what = 'documents to converge') {
  try {
    await waitFor(() => new Set(clients.map((c) => docJson(c.doc))).size === 1, ms, what);
  } catch (e) {
    const sizes = clients.map((c) => `${c.doc.getMap('nodes').size} nodes, ${c.doc.getText('notes').length} chars`);
    throw new Error(`${e.message}; replicas: ${sizes.join(' | ')}`);
  }
  return JSON.parse(docJson(clients[0].doc));
}

/**
 * Sets `count` keys named `${prefix}-${i}` on a client's `nodes` map, one every `gapMs`. The gap is
 * pacing, not synchronisation: a burst spread over time, so that a kill can land in the middle of it.
 */
async function burst(client, prefix, count, gapMs) {
  const nodes = client.doc.getMap('nodes');
  for (let i = 0; i < count; i++) {
    nodes.set(`${prefix}-${i}`, { type: 'app', by: prefix, i });
    await sleep(gapMs);
  }
}

describe('several instances through Redis', () => {
  const servers = [];
  const clients = [];
  const open = async (...args) => { const c = await connect(...args); clients.push(c); return c; };

  before(async () => {
    await requirePostgres();
    await requireRedis();
    for (let i = 0; i < 3; i++) {
      servers.push(await TestServer.start({ databaseUrl: PG_URL, extraArgs: ['--redis-url', REDIS_URL] }));
    }
  });

  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.stop();
  });

  test('clients on three instances edit one room concurrently: documents converge, awareness crosses', async () => {
    const { room, tokens } = await servers[0].createRoom();
    const names = ['a0', 'a1', 'b0', 'b1', 'c0', 'c1'];
    const cs = [];
    for (const [i, name] of names.entries()) {
      cs.push(await open(servers[Math.floor(i / 2)].ws, room, tokens.edit, { name }));
    }
    // Everyone sees everyone's presence, whichever instance they are on.
    await waitFor(() => cs.every((c) => awarenessNames(c.provider).join() === [...names].sort().join()),
      10000, 'awareness of all six clients on every client');

    await Promise.all(cs.map((c, i) => {
      const text = c.doc.getText('notes');
      return (async () => {
        for (let k = 0; k < 40; k++) {
          c.doc.getMap('nodes').set(`${names[i]}-${k}`, k);
          text.insert(0, names[i]);
          if (k % 10 === 9) c.doc.getMap('nodes').delete(`${names[i]}-${k - 5}`);
          await sleep(3); // pacing: the six clients' edits interleave
        }
      })();
    }));
    const content = await converged(cs, 10000);
    assert.equal(Object.keys(content.nodes).length, 6 * (40 - 4));
    assert.equal(content.notes.length, 6 * 40 * 2);

    // A client that leaves instance b is removed from the others' presence at once (the removal is
    // published), not after the 30 s timeout.
    const leaving = cs[2];
    const left = Date.now();
    leaving.close();
    const rest = cs.filter((c) => c !== leaving);
    await waitFor(() => rest.every((c) => !awarenessNames(c.provider).includes('b0')), 5000,
      'the departed client to vanish from every other client\'s presence');
    console.log(`# awareness removal crossed instances in ${Date.now() - left} ms`);

    let published = 0;
    let received = 0;
    for (const s of servers) {
      published += await metric(s, 'tierboard_bus_published_total');
      received += await metric(s, 'tierboard_bus_received_total');
      assert.equal(await metric(s, 'tierboard_bus_up'), 1);
    }
    assert.ok(published > 0 && received > 0, `bus counters: published ${published}, received ${received}`);
  });

  test('kill -9 of one instance mid-burst: its clients move, nothing any survivor received is lost', async () => {
    const { room, tokens } = await servers[0].createRoom();
    // a0 and a1 reach instance 0 through a switch (the load balancer); b and c are on instances 1 and 2.
    const lb = await TcpSwitch.start(servers[0].port);
    try {
      const a0 = await open(lb.ws, room, tokens.edit, { name: 'a0' });
      const a1 = await open(lb.ws, room, tokens.edit, { name: 'a1' });
      const b = await open(servers[1].ws, room, tokens.edit, { name: 'b' });
      const c = await open(servers[2].ws, room, tokens.edit, { name: 'c' });
      const all = [a0, a1, b, c];
      const N = 150;
      const bursts = all.map((cl, i) => burst(cl, ['a0', 'a1', 'b', 'c'][i], N, 4));

      await waitFor(() => b.doc.getMap('nodes').size > 150, 10000, 'the burst to be under way');
      // What the surviving clients had received when instance 0 died.
      lb.switchTo(servers[1].port);
      await servers[0].stop('SIGKILL');
      const seenBySurvivors = new Set([...b.doc.getMap('nodes').keys(), ...c.doc.getMap('nodes').keys()]);
      assert.ok([...seenBySurvivors].some((k) => k.startsWith('a0-')), 'survivors had seen a0\'s edits');

      await Promise.all(bursts);
      // a0 and a1 reconnect by themselves (through the switch, to instance 1) and resync.
      await waitFor(() => a0.provider.wsconnected && a1.provider.wsconnected && a0.provider.synced && a1.provider.synced,
        15000, 'the killed instance\'s clients to reconnect');
      const content = await converged(all, 10000);
      const keys = new Set(Object.keys(content.nodes));
      for (const k of seenBySurvivors) assert.ok(keys.has(k), `edit ${k} that a survivor had received is kept`);
      // Every client kept its own edits locally and resent what the servers lacked: nothing is missing.
      assert.equal(keys.size, 4 * N);

      // And it is stored: once every client has heard that its own edits are stored (each instance
      // stores every update it applies), a fresh instance (no Redis, only the database) loads them all.
      await Promise.all(all.map((cl) => waitSaved(cl, 10000)));
      const fresh = await TestServer.start({ databaseUrl: PG_URL });
      try {
        const d = await connect(fresh.ws, room, tokens.edit);
        try {
          assert.equal(d.doc.getMap('nodes').size, 4 * N);
        } finally { d.close(); }
      } finally { await fresh.stop(); }
    } finally {
      await lb.close();
      await servers[0].spawn();
    }
  });

  test('a client joining on an instance that never held the room gets edits made seconds earlier', async () => {
    const { room, tokens } = await servers[0].createRoom();
    const a = await open(servers[0].ws, room, tokens.edit);
    await burst(a, 'early', 30, 1);
    a.doc.getText('notes').insert(0, 'written on instance 0');
    // The earlier edits are stored before the latest one is made.
    await waitSaved(a);
    a.doc.getMap('nodes').set('latest', 'just now');
    // Instance 2 has never loaded this room.
    const b = await open(servers[2].ws, room, tokens.edit);
    const content = await converged([a, b], 5000);
    assert.equal(Object.keys(content.nodes).length, 31);
    assert.equal(content.notes, 'written on instance 0');
  });
});

describe('an instance whose edits are not stored yet', () => {
  let slow;
  let other;
  before(async () => {
    await requirePostgres();
    await requireRedis();
    // Instance 0 stores only every 20 s, so its edits reach the joiner through reconciliation alone.
    slow = await TestServer.start({ databaseUrl: PG_URL, extraArgs: ['--redis-url', REDIS_URL, '--persist-interval-ms', '20000'] });
    other = await TestServer.start({ databaseUrl: PG_URL, extraArgs: ['--redis-url', REDIS_URL] });
  });
  after(async () => { await slow?.stop(); await other?.stop(); });

  test('a joiner elsewhere still gets them: subscribe, load, then reconcile', async () => {
    const { room, tokens } = await slow.createRoom();
    const a = await connect(slow.ws, room, tokens.edit);
    try {
      await burst(a, 'unstored', 20, 1);
      // Instance 0 must hold the edits (applied, not stored) before the joiner's instance subscribes,
      // or they would cross as ordinary bus messages instead of a reconcile diff.
      const observer = await connect(slow.ws, room, tokens.edit);
      try {
        await waitSameContent(observer, a);
      } finally { observer.close(); }
      const b = await connect(other.ws, room, tokens.edit);
      try {
        const content = await converged([a, b], 5000, 'the joiner to receive unstored edits');
        assert.equal(Object.keys(content.nodes).length, 20);
        assert.ok(await metric(slow, 'tierboard_reconcile_diffs_total') >= 1, 'the edits came as a reconcile diff');
      } finally { b.close(); }
    } finally { a.close(); }
  });
});

describe('Redis restarted mid-session', () => {
  let redis;
  const servers = [];
  before(async () => {
    redis = await TestRedis.start();
    for (let i = 0; i < 2; i++) {
      servers.push(await TestServer.start({ databaseUrl: PG_URL, extraArgs: ['--redis-url', redis.url] }));
    }
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await redis?.stop();
  });

  test('each instance keeps serving, logs the outage once, and converges within the bound once Redis is back', async () => {
    const { room, tokens } = await servers[0].createRoom();
    const a = await connect(servers[0].ws, room, tokens.edit, { name: 'a' });
    const b = await connect(servers[1].ws, room, tokens.edit, { name: 'b' });
    try {
      a.doc.getMap('nodes').set('before', 1);
      await converged([a, b], 5000);

      await redis.stop();
      for (const s of servers) {
        await waitFor(async () => (await metric(s, 'tierboard_bus_up')) === 0, 10000, 'each instance to see Redis down');
      }
      // Both keep serving their own clients while Redis is down.
      a.doc.getMap('nodes').set('during-a', 1);
      b.doc.getMap('nodes').set('during-b', 1);
      b.doc.getText('notes').insert(0, 'typed during the outage');
      const local = await connect(servers[1].ws, room, tokens.edit);
      try {
        await waitFor(() => local.doc.getMap('nodes').has('during-b'), 5000, 'instance 1 to serve its clients');
      } finally { local.close(); }
      // A window in which a crossing would show (longer than the 2 s reconnect backoff cap): proving
      // an absence takes time, so this sleep is the point, not a wait.
      await sleep(2500);
      assert.ok(!a.doc.getMap('nodes').has('during-b'), 'nothing can cross while Redis is down');
      // Writes continue during the outage and are stored; the outage is logged once, not per message.
      for (let i = 0; i < 50; i++) a.doc.getMap('nodes').set(`outage-${i}`, i);
      await waitSaved(a);

      await redis.spawn();
      const back = Date.now();
      const content = await converged([a, b], REPORT_MS, 'convergence after Redis is back');
      const healedMs = Date.now() - back;
      console.log(`# converged ${healedMs} ms after Redis came back (stated bound ${BOUND_AFTER_REDIS_MS} ms)`);
      assert.ok(healedMs <= BOUND_AFTER_REDIS_MS,
        `converged ${healedMs} ms after Redis came back; README "Guarantees" states ${BOUND_AFTER_REDIS_MS} ms`);
      assert.ok(content.nodes['during-a'] && content.nodes['during-b'] && content.nodes['outage-49'] !== undefined);
      assert.equal(content.notes, 'typed during the outage');
      // Presence crosses again too, within the same bound.
      await waitFor(() => awarenessNames(a.provider).includes('b') && awarenessNames(b.provider).includes('a'),
        REPORT_MS, 'awareness to cross again');
      const presenceMs = Date.now() - back;
      console.log(`# awareness crossed again ${presenceMs} ms after Redis came back`);
      assert.ok(presenceMs <= BOUND_AFTER_REDIS_MS,
        `awareness crossed ${presenceMs} ms after Redis came back; the stated bound is ${BOUND_AFTER_REDIS_MS} ms`);
      // And new edits flow at once again.
      b.doc.getMap('nodes').set('after', 1);
      await waitFor(() => a.doc.getMap('nodes').has('after'), 2000, 'a new edit to cross');

      for (const s of servers) {
        const downs = s.logs.split('\n').filter((l) => l.includes('Redis bus down')).length;
        assert.equal(downs, 1, `the outage is logged once per instance, logs:\n${s.logs}`);
        assert.ok(s.logs.includes('rooms reconcile now'), 'the recovery is logged');
        assert.ok(await metric(s, 'tierboard_bus_errors_total') >= 1);
        assert.equal(await metric(s, 'tierboard_bus_up'), 1);
      }
    } finally { a.close(); b.close(); }
  });
});
