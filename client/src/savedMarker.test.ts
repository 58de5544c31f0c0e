// Honest "Saved" (issue 24, item 6): a change that only deletes does not advance a Yjs state vector,
// so it used to look saved at once, even offline. The `meta.edited` marker makes it count.
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { bytesToBase64, SavedTracker } from './protocol'
import { addNode, deleteElements, markDeleteOnlyChanges, root } from './schema'

const tick = () => new Promise((r) => setTimeout(r, 0))
const svOf = (doc: Y.Doc) => bytesToBase64(Y.encodeStateVector(doc))

describe('a delete-only change', () => {
  it('is unsaved until the server has stored it', async () => {
    const doc = new Y.Doc()
    markDeleteOnlyChanges(doc)
    const tracker = new SavedTracker(doc)
    const id = addNode(doc, { type: 'app', x: 0, y: 0 })
    expect(tracker.onSaved(svOf(doc))).toBe(true)

    deleteElements(doc, [id])
    await tick()
    expect(root(doc).meta.get('edited')).toEqual(expect.any(Number))
    expect(tracker.saved()).toBe(false)
    expect(tracker.onSaved(svOf(doc))).toBe(true)
  })

  it('without the marker, looked saved at once (what the marker fixes)', async () => {
    const doc = new Y.Doc()
    const tracker = new SavedTracker(doc)
    const id = addNode(doc, { type: 'app', x: 0, y: 0 })
    tracker.onSaved(svOf(doc))
    deleteElements(doc, [id])
    await tick()
    expect(tracker.saved()).toBe(true)
  })

  it('is not marked when the delete came from someone else, nor for an ordinary edit', async () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    markDeleteOnlyChanges(b)
    const id = addNode(a, { type: 'app', x: 0, y: 0 })
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    deleteElements(a, [id])
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    addNode(b, { type: 'lb', x: 0, y: 0 })
    await tick()
    expect(root(b).nodes.size).toBe(1)
    expect(root(b).meta.has('edited')).toBe(false)
  })
})
