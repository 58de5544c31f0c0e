import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { addEntry, entryText, lines, readSections, removeEntry, writeSections } from './sections'

describe('sections schema', () => {
  it('round-trips plain sections through a document', () => {
    const doc = new Y.Doc()
    const s = {
      functional: ['Read posts', 'Publish posts'],
      non_functional: ['p99 < 200 ms'],
      estimates: [{ id: 'e1', name: 'peak rps', value: '1,000', unit: '/s', arithmetic: '10k × 10 / 86,400' }],
      api: [{ id: 'a1', method: 'GET', path: '/posts/{id}', request: '', response: '{post}' }],
      data_model: [{ id: 'd1', name: 'post', fields: 'id, title', keys: 'id', indexes: '', partitioning: 'hash(id)' }],
    }
    writeSections(doc, s)
    expect(readSections(doc)).toEqual(s)
  })

  it('reads plain strings and numbers written by another client, and edits fields as Y.Text', () => {
    const doc = new Y.Doc()
    const m = new Y.Map<unknown>()
    doc.getArray<Y.Map<unknown>>('estimates').push([m])
    m.set('id', 'x')
    m.set('name', 'storage')
    m.set('value', 42)
    expect(readSections(doc).estimates[0]).toMatchObject({ id: 'x', name: 'storage', value: '42', unit: '' })
    const text = entryText(doc, 'estimates', 'x', 'unit')
    text?.insert(0, 'GB')
    expect(readSections(doc).estimates[0].unit).toBe('GB')
    const id = addEntry(doc, 'api', { method: 'POST', path: '/posts' })
    expect(readSections(doc).api).toEqual([{ id, method: 'POST', path: '/posts', request: '', response: '' }])
    removeEntry(doc, 'api', id)
    expect(readSections(doc).api).toEqual([])
  })

  it('splits requirement lines as the server does', () => {
    expect(lines('- one\n\n * two \n•three')).toEqual(['one', 'two', 'three'])
  })
})
