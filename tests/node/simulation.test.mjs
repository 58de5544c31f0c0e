// The room's live capacity simulation with the stock yjs + y-websocket client (issue 19): every
// participant gets a `simulation` message on connect and a new one as the design's capacity changes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestServer, addEdge, addNode, connect, waitFor } from './harness.mjs';

let server;
before(async () => { server = await TestServer.start(); });
after(async () => { await server?.stop(); });

const simulations = (client) => client.provider.tierboard.filter((m) => m.type === 'simulation');
const latest = (client) => simulations(client).at(-1)?.result;

test('the simulation message follows the app fleet as instances are added', async () => {
  const { room, tokens } = await server.createRoom('tutorial-simple-blog');
  const a = await connect(server.ws, room, tokens.edit);
  const b = await connect(server.ws, room, tokens.view);
  try {
    a.doc.transact(() => {
      addNode(a.doc, 'c1', 'client');
      addNode(a.doc, 'app1', 'app', 'app1', { instances: 1 });
      addNode(a.doc, 'db1', 'db_primary');
      addEdge(a.doc, 'e1', 'c1', 'app1');
      addEdge(a.doc, 'e2', 'app1', 'db1');
    });
    const first = await waitFor(() => latest(b)?.nodes?.app1 && latest(b), 3000, 'a simulation of the design at B');
    assert.ok(first.nodes.app1.offered_rps > 0, 'the client sends the peak through the app');
    const capacity = first.nodes.app1.capacity_rps;
    const seen = simulations(b).length;

    // More instances: a new message with ten times the capacity and a lower utilisation.
    a.doc.getMap('nodes').get('app1').get('params').set('instances', 10);
    const after = await waitFor(
      () => simulations(b).length > seen && latest(b).nodes.app1.capacity_rps === capacity * 10 && latest(b),
      3000,
      'a new simulation with ten app instances at B',
    );
    assert.ok(after.nodes.app1.utilisation < first.nodes.app1.utilisation);
    assert.equal(after.nodes.app1.offered_rps, first.nodes.app1.offered_rps);

    // A late joiner is greeted with the latest result.
    const c = await connect(server.ws, room, tokens.view);
    try {
      await waitFor(() => latest(c)?.nodes?.app1?.capacity_rps === capacity * 10, 3000, 'the greeting simulation at C');
    } finally { c.close(); }
  } finally { a.close(); b.close(); }
});
