// Live validation with two stock yjs + y-websocket clients (issue 4).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestServer, addEdge, addNode, connect, waitFor } from './harness.mjs';

let server;
before(async () => { server = await TestServer.start(); });
after(async () => { await server?.stop(); });

const latest = (client) => [...client.provider.tierboard].reverse().find((m) => m.type === 'validation')?.result;
const t0 = (result) => result?.tiers.find((t) => t.id === 'T0');

test('T0 of tutorial-simple-blog turns green and back for every participant, and HTTP agrees', async (t) => {
  const { room, tokens } = await server.createRoom('tutorial-simple-blog');
  const a = await connect(server.ws, room, tokens.edit);
  const b = await connect(server.ws, room, tokens.view);
  try {
    // On join, both get the current verdict: nothing reached yet.
    await waitFor(() => latest(b), 3000, 'initial validation message');
    assert.equal(t0(latest(b)).reached, false);
    assert.equal(latest(b).reached, 0);

    const start = performance.now();
    a.doc.transact(() => {
      addNode(a.doc, 'c1', 'client', 'Readers');
      addNode(a.doc, 'app1', 'app', 'App Server');
      addNode(a.doc, 'db1', 'db_primary', 'Primary DB');
      addEdge(a.doc, 'e1', 'c1', 'app1');
      addEdge(a.doc, 'e2', 'app1', 'db1');
    });
    await waitFor(() => t0(latest(b))?.reached === true, 2000, 'T0 reached at B');
    // A reported figure, not a pass/fail: a debug build on a shared machine is no place for a speed
    // target (200 ms from edit to verdict); speed targets live in the benchmarks (BENCHMARKS.md).
    const elapsed = performance.now() - start;
    t.diagnostic(`T0 reached at B ${elapsed.toFixed(1)} ms after A's edit (target 200 ms)`);
    const rules = t0(latest(b)).rules;
    assert.ok(rules.every((r) => r.passed && r.explanation.length > 0));
    // The same broadcast reaches the editor on its own socket, a moment earlier or later than B.
    await waitFor(() => t0(latest(a))?.reached === true, 2000, 'the editor to see the same verdict');

    let res = await fetch(`${server.http}/api/rooms/${room}/validation?token=${tokens.view}`);
    assert.equal(res.status, 200);
    assert.equal(t0(await res.json()).reached, true);

    a.doc.getMap('nodes').delete('db1');
    await waitFor(() => t0(latest(b))?.reached === false, 2000, 'T0 lost at B');
    const failing = t0(latest(b)).rules.find((r) => !r.passed);
    assert.equal(failing.text, 'Must include: db_primary');
    assert.match(failing.explanation, /db_primary/);
    // The edge to the deleted node is now dangling: a design issue, not a crash.
    assert.ok(latest(b).design_issues.some((i) => i.code === 'dangling_edge'));

    res = await fetch(`${server.http}/api/rooms/${room}/validation?token=${tokens.edit}`);
    assert.equal(t0(await res.json()).reached, false);

    const t0Events = await waitFor(async () => {
      const t = await (await fetch(`${server.http}/api/rooms/${room}/timeline?token=${tokens.edit}`)).json();
      const events = t.events.filter((e) => e.tier === 'T0').map((e) => e.event);
      return events.length >= 2 && events;
    }, 2000, 'timeline to hold both transitions');
    assert.deepEqual(t0Events, ['reached', 'lost']);
  } finally { a.close(); b.close(); }
});

test('the stateless endpoint validates a posted design', async () => {
  const design = {
    nodes: [
      { id: 'a', type: 'app', label: 'App', x: 0, y: 0, params: { instances: 2 } },
      { id: 'd', type: 'db_primary', label: 'DB', x: 0, y: 0, params: {} },
    ],
    edges: [{ id: 'e', from: 'a', to: 'd' }],
  };
  const res = await fetch(`${server.http}/api/validate`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ problem: 'tutorial-simple-blog', design }),
  });
  assert.equal(res.status, 200);
  const result = await res.json();
  assert.equal(t0(result).reached, true);
  const t1 = result.tiers.find((t) => t.id === 'T1');
  assert.equal(t1.passed, false);
  assert.ok(t1.rules.some((r) => !r.passed && /lb/.test(r.explanation)));
});
