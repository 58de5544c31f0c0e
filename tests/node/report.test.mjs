// The structured sections (issue 23, docs/PROTOCOL.md §3) written by the stock yjs client exactly as
// the protocol lays them out (root Y.Text requirements, Y.Array<Y.Map> entries whose fields are
// Y.Text, as the tierboard client writes them): the server reads them, checks them
// (`section_checks`), keeps them in the report and replays them from the history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestServer, connect, waitFor, Y, addNode, addEdge } from './harness.mjs';

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
