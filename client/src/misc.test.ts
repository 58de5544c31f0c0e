import 'fake-indexeddb/auto'
import { describe, expect, it, vi } from 'vitest'
import * as Y from 'yjs'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as idb from 'lib0/indexeddb'
import { Awareness } from 'y-protocols/awareness'
import { editLink, parseFragment, roleOf, tokenFor, viewLink } from './links'
import { NotesAwareness, colorFor, loadName, participants, readPresence, saveName } from './presence'
import { matchRoute } from './router'
import { difficultyOrder, hintList, namedPairs } from './browser/common'
import { queryFrom } from './browser/Browser'
import { problemQueryString } from './api'
import { glyphName } from './icons'
import { addNode, exportDesign } from './schema'

describe('links', () => {
  it('reads tokens from the fragment only', () => {
    const t = parseFragment('#edit=E1&view=V1')
    expect(t).toEqual({ edit: 'E1', view: 'V1' })
    expect(roleOf(t)).toBe('edit')
    expect(tokenFor(t)).toBe('E1')
    expect(roleOf(parseFragment('#view=V1'))).toBe('view')
    expect(roleOf(parseFragment(''))).toBeNull()
  })

  it('builds edit and view links; a view link never carries the edit token', () => {
    const t = { edit: 'E1', view: 'V1' }
    expect(editLink('http://h', 'room_1', t)).toBe('http://h/r/room_1#edit=E1&view=V1')
    expect(viewLink('http://h', 'room_1', t)).toBe('http://h/r/room_1#view=V1')
    expect(editLink('http://h', 'room_1', { view: 'V1' })).toBeNull()
  })
})

describe('router', () => {
  it('matches the client routes', () => {
    expect(matchRoute('/', '?q=chat').name).toBe('browser')
    expect(matchRoute('/problems/tutorial-simple-blog', '')).toEqual({ name: 'problem', id: 'tutorial-simple-blog' })
    expect(matchRoute('/r/AbC_-123', '')).toEqual({ name: 'room', room: 'AbC_-123' })
    expect(matchRoute('/nope/x', '').name).toBe('not_found')
  })

  it('round-trips the browser query through the URL', () => {
    const q = queryFrom(new URLSearchParams('q=rate+limiter&category=tutorial&page=3'))
    expect(q).toEqual({ q: 'rate limiter', category: 'tutorial', difficulty: '', page: 3 })
    expect(problemQueryString(q)).toBe('?q=rate+limiter&category=tutorial&page=3')
    expect(queryFrom(new URLSearchParams('page=-2')).page).toBe(1)
    expect(problemQueryString({})).toBe('')
  })
})

describe('presence', () => {
  it('reads only states that follow the convention', () => {
    expect(readPresence(undefined)).toBeNull()
    expect(readPresence({ cursor: { x: 1, y: 2 } })).toBeNull()
    expect(
      readPresence({
        user: { name: 'Ada', color: '#f00' },
        cursor: { x: 1, y: 'b' },
        selection: ['a', 2],
        viewport: { x: 0, y: 0, zoom: 0 },
      }),
    ).toEqual({
      user: { name: 'Ada', color: '#f00' },
      cursor: null,
      selection: ['a'],
      viewport: null,
    })
  })

  it('lists participants with the local one first', () => {
    const doc = new Y.Doc()
    const aw = new Awareness(doc)
    aw.setLocalState({ user: { name: 'Zed', color: colorFor(aw.clientID) }, cursor: null, selection: [], viewport: null })
    const list = participants(aw)
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ self: true, user: { name: 'Zed' } })
    aw.destroy()
  })

  it('remembers the name, trimmed and bounded', () => {
    const store = new Map<string, string>()
    const s = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) }
    expect(loadName(s)).toBeNull()
    expect(saveName('  Grace Hopper  ', s)).toBe('Grace Hopper')
    expect(loadName(s)).toBe('Grace Hopper')
    saveName('x'.repeat(100), s)
    expect(loadName(s)).toHaveLength(40)
  })

  it('keeps the notes caret apart from the canvas cursor', () => {
    const doc = new Y.Doc()
    const aw = new Awareness(doc)
    aw.setLocalState({ user: { name: 'A', color: '#000' }, cursor: { x: 5, y: 6 }, selection: [], viewport: null })
    const notes = new NotesAwareness(aw)
    notes.setLocalStateField('cursor', { anchor: 1, head: 2 })
    expect(aw.getLocalState()!.cursor).toEqual({ x: 5, y: 6 })
    expect(aw.getLocalState()!.notesCursor).toEqual({ anchor: 1, head: 2 })
    expect(notes.getLocalState()!.cursor).toEqual({ anchor: 1, head: 2 })
    expect(notes.getStates().get(aw.clientID)!.cursor).toEqual({ anchor: 1, head: 2 })
    expect(notes.doc).toBe(doc)
    aw.destroy()
  })
})

describe('problem helpers', () => {
  it('orders difficulties by level, not alphabet', () => {
    expect(['Advanced', 'L6-Principal', 'Easy', 'Intermediate', 'Foundation', 'L5-Staff'].sort(difficultyOrder)).toEqual([
      'Easy',
      'Foundation',
      'Intermediate',
      'Advanced',
      'L5-Staff',
      'L6-Principal',
    ])
  })

  it('reads name/text and name/value lists as tables', () => {
    expect(
      namedPairs([
        { name: 'Latency', text: 'P99 < 200ms' },
        { name: 'read_qps', type: 'integer', value: 900 },
      ]),
    ).toEqual({
      Latency: 'P99 < 200ms',
      read_qps: '900',
    })
    expect(namedPairs([{ name: 'x', value: 1, unit: 'ms' }])).toEqual({ x: '1 ms' })
    expect(namedPairs(['plain'])).toBeNull()
    expect(namedPairs([{ name: 'nested', value: { a: 1 } }])).toBeNull()
  })

  it('reads hints in any of the shapes a problem file may use', () => {
    expect(hintList(['a', 'b'])).toEqual(['a', 'b'])
    expect(hintList('a\n\nb')).toEqual(['a', 'b'])
    expect(hintList([{ title: 'Tier 0', text: 'Start with an app' }, 3])).toEqual(['Tier 0: Start with an app'])
    expect(hintList(undefined)).toEqual([])
  })

  it('maps catalog icon keys and families to glyphs', () => {
    expect(glyphName('database', 'db_primary')).toBe('database')
    expect(glyphName('scale', 'lb')).toBe('balancer')
    expect(glyphName('cpu', 'abr_optimizer')).toBe('server')
    expect(glyphName('inbox', 'sqs')).toBe('queue')
    expect(glyphName(undefined, 'lb')).toBe('balancer')
    expect(glyphName('', 'redirect_client')).toBe('client')
    expect(glyphName('???', 'zzz', 'messaging')).toBe('queue')
    expect(glyphName(undefined, 'zzz')).toBe('gear')
  })
})

/** The design that a persistence's `updates` store holds, read back through its own connection. */
async function storedDesign(p: IndexeddbPersistence) {
  const [updates] = idb.transact(p.db!, ['updates'], 'readonly')
  const doc = new Y.Doc()
  for (const u of (await idb.getAll(updates)) as Uint8Array[]) Y.applyUpdate(doc, u)
  return exportDesign(doc)
}

describe('offline persistence', () => {
  it('keeps edits in IndexedDB and restores them into a new document', async () => {
    const name = `tierboard:test-${Math.random()}`
    const a = new Y.Doc()
    const pa = new IndexeddbPersistence(name, a)
    await pa.whenSynced
    addNode(a, { type: 'app', label: 'made offline' })
    // Wait until IndexedDB holds the edit (y-indexeddb writes in a transaction of its own).
    await vi.waitFor(
      async () => {
        if (JSON.stringify(await storedDesign(pa)) !== JSON.stringify(exportDesign(a)))
          throw new Error('IndexedDB does not hold the edit yet')
      },
      { timeout: 5000, interval: 10 },
    )
    await pa.destroy()
    const b = new Y.Doc()
    const pb = new IndexeddbPersistence(name, b)
    await pb.whenSynced
    expect(exportDesign(b)).toEqual(exportDesign(a))
    await pb.clearData()
  })
})
