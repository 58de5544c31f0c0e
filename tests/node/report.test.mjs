// The structured sections (issue 23, docs/PROTOCOL.md §3) written by the stock yjs client exactly as
// the protocol lays them out (root Y.Text requirements, Y.Array<Y.Map> entries whose fields are
// Y.Text, as the tierboard client writes them): the server reads them, checks them
// (`section_checks`), keeps them in the report and replays them from the history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TestServer, connect, waitFor, Y, addNode, addEdge, docJson, sleep, waitSaved, requirePostgres, requireRedis, PG_URL, REDIS_URL,
} from './harness.mjs';

const PROBLEM = 'tutorial-simple-blog';

function entry(fields) {
  const m = new Y.Map();
  m.set('id', fields.id);
  for (const [k, v] of Object.entries(fields)) if (k !== 'id') m.set(k, new Y.Text(v));
  return m;
}

test('sections written by the stock client are read, checked, reported and replayed', async () => {
  const server = await TestServer.start();
  try {
    const res = await fetch(`${server.http}/api/rooms`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ problem: PROBLEM, mode: 'interview' }),
    });
    const { room, tokens } = await res.json();
    const c = await connect(server.ws, room, tokens.edit, { name: 'Cleo' });
    await waitFor(() => c.provider.tierboard.some((m) => m.type === 'validation'), 5000, 'baseline validation');
    c.doc.transact(() => {
      c.doc.getText('req_functional').insert(0, '- Read blog posts\n- Publish posts\n');
      c.doc.getText('req_nonfunctional').insert(0, 'p99 < 200 ms\n99.9% uptime\n10,000 posts, 100 MB storage\n1,000 rps at peak');
      c.doc.getArray('estimates').push([entry({ id: 'e1', name: 'read qps', value: '900', unit: '/s', arithmetic: '1,000 × 90%' })]);
      c.doc.getArray('api').push([entry({ id: 'a1', method: 'GET', path: '/posts/{id}', request: '', response: 'post' })]);
      c.doc.getArray('data_model').push([entry({ id: 'd1', name: 'post', fields: 'id, title', keys: 'id', indexes: '', partitioning: '' })]);
      addNode(c.doc, 'app', 'app', 'App');
      addNode(c.doc, 'db', 'db_primary', 'DB');
      addEdge(c.doc, 'e1', 'app', 'db');
    });
    const checks = await waitFor(() => {
      const m = [...c.provider.tierboard].reverse().find((x) => x.type === 'section_checks');
      return m && m.result.checks[0].items.length === 1 ? m.result.checks : null;
    }, 5000, 'section checks of the estimate');
    const byId = Object.fromEntries(checks.map((k) => [k.id, k]));
    assert.equal(byId.estimates.status, 'pass', JSON.stringify(byId.estimates));
    assert.match(byId.estimates.items[0].explanation, /your read qps: 900\/s \(1,000 × 90%\); the problem's read qps: 900\/s \(constants\.read_qps\)/);
    assert.equal(byId.non_functional.status, 'pass', JSON.stringify(byId.non_functional));
    const items = Object.fromEntries(byId.api_coverage.items.map((i) => [i.name, i.status]));
    assert.deepEqual(items, { 'Read blog posts': 'pass', 'Publish posts': 'pass' });
    assert.equal(byId.data_model_keys.status, 'pass');

    const report = await waitFor(async () => {
      const r = await (await fetch(`${server.http}/api/rooms/${room}/report?token=${tokens.host}`)).json();
      return r.sections.estimates.length === 1 && r.components.length === 2 && r.participants.some((p) => p.name) ? r : null;
    }, 5000, 'the report to hold the sections');
    // The candidate by name, with their role and what they added.
    const me = report.participants.find((p) => p.client === c.doc.clientID);
    assert.equal(me?.name, 'Cleo', JSON.stringify(report.participants));
    assert.equal(me.role, 'edit');
    assert.equal(me.components_added, 2);
    assert.ok(report.components.every((x) => x.by === 'Cleo'), JSON.stringify(report.components));
    assert.deepEqual(report.sections.functional, ['Read blog posts', 'Publish posts']);
    assert.deepEqual(report.sections.estimates[0], { id: 'e1', name: 'read qps', value: '900', unit: '/s', arithmetic: '1,000 × 90%' });
    assert.deepEqual(report.sections.api[0], { id: 'a1', method: 'GET', path: '/posts/{id}', request: '', response: 'post' });
    const history = await waitFor(async () => {
      const h = await (await fetch(`${server.http}/api/rooms/${room}/history?token=${tokens.host}&at=${Date.now()}`)).json();
      return h.sections?.data_model?.length === 1 ? h : null;
    }, 5000, 'the replay to hold the sections');
    assert.deepEqual(history.sections, report.sections);
    assert.equal(history.design.nodes.length, 2);
    c.close();
  } finally {
    await server.stop();
  }
});

// History with several instances (issue 23): a candidate on one instance and a second editor on
// another, sharing Redis and PostgreSQL. Each instance stores the updates it applies (its own clients'
// and the bus's); `history?at=` on either instance answers the design both editors had at three
// moments, and the report's tier timeline is the same whichever instance computes it.
test('history and the report agree across two instances sharing Redis and PostgreSQL', async () => {
  await requirePostgres();
  await requireRedis();
  const servers = [];
  const clients = [];
  try {
    for (let i = 0; i < 2; i++) {
      servers.push(await TestServer.start({ databaseUrl: PG_URL, extraArgs: ['--redis-url', REDIS_URL] }));
    }
    const res = await fetch(`${servers[0].http}/api/rooms`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ problem: PROBLEM, mode: 'interview' }),
    });
    assert.equal(res.status, 201);
    const { room, tokens } = await res.json();
    const a = await connect(servers[0].ws, room, tokens.edit, { name: 'Ann' });
    const b = await connect(servers[1].ws, room, tokens.edit, { name: 'Ben' });
    clients.push(a, b);
    const reached = (c) => [...c.provider.tierboard].reverse().find((m) => m.type === 'validation')?.result.reached;
    await waitFor(() => reached(a) === 0 && reached(b) === 0, 5000, 'the baseline validation on both instances');

    // Both editors' edits converged, stored by both instances, and judged with `tiers` reached: the
    // moment (strictly between two rounds of edits) and the design both had.
    const moment = async (tiers, what) => {
      await waitFor(() => docJson(a.doc) === docJson(b.doc), 5000, `${what}: the two editors to converge`);
      await Promise.all([waitSaved(a), waitSaved(b)]);
      await waitFor(() => reached(a) === tiers && reached(b) === tiers, 5000, `${what}: ${tiers} tier(s) on both instances`);
      await sleep(30);
      const at = Date.now();
      await sleep(30);
      const nodes = Object.keys(a.doc.getMap('nodes').toJSON()).sort();
      const edges = Object.keys(a.doc.getMap('edges').toJSON()).sort();
      return { at, nodes, edges, functional: a.doc.getText('req_functional').toString() };
    };

    // 1: Ann (instance 0) draws the app, Ben (instance 1) the database and the edge: T0 reached.
    a.doc.transact(() => { addNode(a.doc, 'app', 'app', 'App'); a.doc.getText('req_functional').insert(0, 'Read posts\n'); });
    b.doc.transact(() => { addNode(b.doc, 'db', 'db_primary', 'DB'); });
    await waitFor(() => a.doc.getMap('nodes').has('db') && b.doc.getMap('nodes').has('app'), 5000, 'the nodes to cross');
    b.doc.transact(() => addEdge(b.doc, 'e1', 'app', 'db'));
    const m1 = await moment(1, 'moment 1');
    // 2: Ann removes the edge (T0 lost), Ben adds a load balancer.
    a.doc.getMap('edges').delete('e1');
    b.doc.transact(() => addNode(b.doc, 'lb', 'lb', 'LB'));
    const m2 = await moment(0, 'moment 2');
    // 3: Ben puts the edge back (T0 reached again), Ann adds a cache and a requirement.
    b.doc.transact(() => addEdge(b.doc, 'e2', 'app', 'db'));
    a.doc.transact(() => { addNode(a.doc, 'cache', 'cache', 'Cache'); a.doc.getText('req_functional').insert(0, 'Publish posts\n'); });
    const m3 = await moment(1, 'moment 3');
    assert.deepEqual(m1.nodes, ['app', 'db']);
    assert.deepEqual(m2.edges, []);
    assert.deepEqual(m3.nodes, ['app', 'cache', 'db', 'lb']);

    const get = async (server, path) => {
      const r = await fetch(`${server.http}${path}`);
      assert.equal(r.status, 200, `${path}: ${r.status}`);
      return r.json();
    };
    for (const m of [m1, m2, m3]) {
      const answers = [];
      for (const server of servers) {
        const h = await get(server, `/api/rooms/${room}/history?token=${tokens.host}&at=${m.at}`);
        assert.equal(h.at, m.at);
        assert.deepEqual(h.design.nodes.map((n) => n.id).sort(), m.nodes, `nodes at ${m.at} from ${server.http}`);
        assert.deepEqual(h.design.edges.map((e) => e.id).sort(), m.edges, `edges at ${m.at} from ${server.http}`);
        assert.deepEqual(h.sections.functional, m.functional.split('\n').filter(Boolean));
        answers.push({ design: h.design, sections: h.sections, validation: h.validation.reached });
      }
      assert.deepEqual(answers[0], answers[1], `both instances replay the same room at ${m.at}`);
    }

    // The tier timeline: reached, lost, reached, each once (two instances judged every change), in
    // the moments' order, and the same report from both instances.
    const reports = await waitFor(async () => {
      const rs = await Promise.all(servers.map((s) => get(s, `/api/rooms/${room}/report?token=${tokens.host}`)));
      return rs.every((r) => r.tier_timeline.length >= 3) ? rs : null;
    }, 5000, 'three tier events');
    const timeline = reports[0].tier_timeline;
    assert.deepEqual(timeline.map((e) => `${e.tier} ${e.event}`), ['T0 reached', 'T0 lost', 'T0 reached']);
    assert.ok(timeline[0].at <= m1.at && m1.at < timeline[1].at && timeline[1].at <= m2.at && m2.at < timeline[2].at && timeline[2].at <= m3.at,
      `events between the moments: ${JSON.stringify(timeline)} / ${m1.at} ${m2.at} ${m3.at}`);
    assert.deepEqual(reports[1].tier_timeline, timeline);
    assert.deepEqual(reports[1].design, reports[0].design);
    // Who added what, whichever instance stored the update first: each node credited to its author.
    const by = (r) => Object.fromEntries(r.components.map((c) => [c.node, c.by]));
    assert.deepEqual(by(reports[0]), { app: 'Ann', db: 'Ben', lb: 'Ben', cache: 'Ann' });
    assert.deepEqual(by(reports[1]), by(reports[0]));
  } finally {
    for (const c of clients) c.close();
    for (const s of servers) await s.stop();
  }
});
