// Writes the seed corpus of the room_input fuzz target: real frames from the stock yjs client.
//
// Run from the repository root after `npm --prefix tests/node ci`:
//   node fuzz/seeds/make.mjs
// Each seed is one WebSocket binary frame as a client sends it (y-websocket framing, several
// messages per frame allowed), written to fuzz/corpus/room_input/seed-<name>.
import { createRequire } from 'node:module'
import { mkdirSync, writeFileSync } from 'node:fs'

const require = createRequire(new URL('../../tests/node/package.json', import.meta.url))
const Y = require('yjs')
const encoding = require('lib0/encoding')
const syncProtocol = require('y-protocols/sync')
const awarenessProtocol = require('y-protocols/awareness')

const out = new URL('../corpus/room_input/', import.meta.url)
mkdirSync(out, { recursive: true })

const frame = (...messages) => {
  const total = messages.reduce((n, m) => n + m.length, 0)
  const buf = new Uint8Array(total)
  let at = 0
  for (const m of messages) { buf.set(m, at); at += m.length }
  return buf
}
const msg = (write) => { const e = encoding.createEncoder(); write(e); return encoding.toUint8Array(e) }
const step1 = (doc) => msg((e) => { encoding.writeVarUint(e, 0); syncProtocol.writeSyncStep1(e, doc) })
const step2 = (update) => msg((e) => { encoding.writeVarUint(e, 0); encoding.writeVarUint(e, 1); encoding.writeVarUint8Array(e, update) })
const update = (u) => msg((e) => { encoding.writeVarUint(e, 0); syncProtocol.writeUpdate(e, u) })
const awareness = (u) => msg((e) => { encoding.writeVarUint(e, 1); encoding.writeVarUint8Array(e, u) })
const seeds = {}

// A canvas session as the client writes it (client/src/schema.ts): nodes and edges are Y.Maps.
const doc = new Y.Doc()
doc.clientID = 1234567
const updates = []
doc.on('update', (u) => updates.push(u))
const nodes = doc.getMap('nodes')
const edges = doc.getMap('edges')
const addNode = (id, type, x, y) => doc.transact(() => {
  const n = new Y.Map()
  n.set('type', type); n.set('label', `${type} ${id}`); n.set('x', x); n.set('y', y)
  const params = new Y.Map(); params.set('replicas', 3); params.set('region', 'eu-west'); params.set('cache', true)
  n.set('params', params)
  nodes.set(id, n)
})
const fresh = new Y.Doc()
seeds['step1-empty'] = step1(fresh)
seeds['step2-empty'] = step2(Y.encodeStateAsUpdate(fresh))
addNode('lb', 'load_balancer', 100, 80)
seeds['update-add-node'] = update(updates.at(-1))
addNode('api', 'service', 300, 80)
doc.transact(() => { const e = new Y.Map(); e.set('from', 'lb'); e.set('to', 'api'); e.set('label', 'HTTP'); edges.set('lb-api', e) })
seeds['update-add-edge'] = update(updates.at(-1))
nodes.get('api').set('x', 320.5)
seeds['update-move'] = update(updates.at(-1))
nodes.get('lb').get('params').delete('cache')
seeds['update-delete-param'] = update(updates.at(-1))
nodes.delete('api')
seeds['update-delete-node'] = update(updates.at(-1))
seeds['step1-partial'] = frame(step1(doc))
seeds['step2-full'] = step2(Y.encodeStateAsUpdate(doc))
// A joiner's whole first frame: step 1, step 2 with its own edits, an update, presence.
const aw = new awarenessProtocol.Awareness(doc)
aw.setLocalState({ user: { name: 'Ada', color: '#f80' }, cursor: { x: 10, y: 20 } })
const awUpdate = awarenessProtocol.encodeAwarenessUpdate(aw, [doc.clientID])
seeds.awareness = awareness(awUpdate)
seeds['query-awareness'] = new Uint8Array([3])
seeds['joiner-frame'] = frame(step1(fresh), step2(updates[0]), update(updates[1]), awareness(awUpdate), new Uint8Array([3]))
// The same edits in reverse order in one frame: the later ones wait as pending updates.
seeds['out-of-order'] = frame(...updates.slice().reverse().map(update))

// Other content kinds a Yjs client can send: text with formatting, embeds and surrogate pairs,
// arrays of every Any value, XML, a sub-document, and a deletion of text.
const rich = new Y.Doc()
rich.clientID = 42
const richUpdates = []
rich.on('update', (u) => richUpdates.push(u))
const text = rich.getText('notes')
text.insert(0, 'cache 😀 in front', { bold: true })
text.insertEmbed(5, { image: 'x.png' })
text.format(0, 3, { italic: true })
text.delete(2, 4)
const arr = rich.getArray('values')
arr.push([1, -2.5, 2 ** 40, 2 ** 60, true, null, 'str', [1, [2]], { a: { b: 1 } }, new Uint8Array([1, 2, 3])])
const xml = rich.getXmlFragment('xml')
const el = new Y.XmlElement('p')
el.setAttribute('class', 'x')
el.insert(0, [new Y.XmlText('hello')])
xml.insert(0, [el])
rich.getMap('docs').set('sub', new Y.Doc({ guid: 'sub-guid' }))
seeds['update-rich'] = update(Y.encodeStateAsUpdate(rich))
seeds['rich-in-steps'] = frame(...richUpdates.map(update))

// Two clients editing the same text concurrently, merged.
const a = new Y.Doc(); a.clientID = 7
const b = new Y.Doc(); b.clientID = 8
a.getText('t').insert(0, 'abc')
Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
a.getText('t').insert(1, 'XX')
b.getText('t').delete(0, 2)
seeds['concurrent'] = frame(update(Y.encodeStateAsUpdate(a)), update(Y.encodeStateAsUpdate(b)), step1(a))

aw.destroy()
for (const [name, bytes] of Object.entries(seeds)) writeFileSync(new URL(`seed-${name}`, out), bytes)
console.log(`${Object.keys(seeds).length} seeds in ${out.pathname}`)
