// @vitest-environment jsdom
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { act } from 'react'
import type { Root } from 'react-dom/client'
import * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import { setupHost } from '../../testing/render'
import { addEntry, readSections, writeSections } from '../../report/sections'
import { SectionsPanel } from './SectionsPanel'
import { parseSectionChecks } from './checks'

const dom = setupHost()
let host: HTMLDivElement
let root: Root
beforeEach(() => {
  host = dom.host()
  root = dom.root()
})

function room() {
  const doc = new Y.Doc()
  writeSections(doc, {
    functional: ['Users upload images'],
    non_functional: [],
    estimates: [{ id: 'e1', name: 'peak requests', value: '9,500', unit: '/s', arithmetic: '' }],
    api: [],
    data_model: [{ id: 'd1', name: 'Image', fields: 'id, url', keys: '', indexes: '', partitioning: '' }],
  })
  return { doc, awareness: new Awareness(doc) }
}

const CHECKS = parseSectionChecks({
  checks: [
    {
      id: 'estimates',
      title: 'Estimates',
      status: 'pass',
      explanation: 'all 1 hold',
      items: [{ name: 'peak requests', status: 'pass', explanation: 'within 2×' }],
    },
    {
      id: 'data_model_keys',
      title: 'Keys',
      status: 'fail',
      explanation: '1 of 1 need attention',
      items: [{ name: 'Image', status: 'fail', explanation: 'no key: how is a row found?' }],
    },
  ],
})

const section = (key: string) => host.querySelector<HTMLElement>(`[data-section="${key}"]`)!

describe('SectionsPanel', () => {
  it('shows each entry with its check, and adds and removes entries in the document', () => {
    const { doc, awareness } = room()
    act(() => root.render(<SectionsPanel doc={doc} awareness={awareness} readOnly={false} checks={CHECKS} />))
    expect(section('estimates').querySelector('[data-testid=row-check]')?.getAttribute('data-status')).toBe('pass')
    const key = section('data_model').querySelector('[data-testid=row-check]')!
    expect(key.getAttribute('data-status')).toBe('fail')
    expect(key.textContent).toContain('no key')
    expect(section('data_model').querySelector('[data-testid=sec-check-data_model_keys]')?.getAttribute('data-status')).toBe('fail')
    expect(section('req_functional').querySelector('.cm-content')?.textContent).toBe('Users upload images')

    const add = [...section('api').querySelectorAll('button')].find((b) => b.textContent === '+ Add endpoint')!
    act(() => add.click())
    expect(readSections(doc).api).toHaveLength(1)
    expect(section('api').querySelectorAll('[data-testid=sec-endpoint]')).toHaveLength(1)
    const remove = section('estimates').querySelector<HTMLButtonElement>('.sec-remove')!
    act(() => remove.click())
    expect(readSections(doc).estimates).toHaveLength(0)
    // A remote change shows too.
    act(() => void addEntry(doc, 'data_model', { name: 'User', keys: 'id' }))
    expect(section('data_model').querySelectorAll('[data-testid=sec-entity]')).toHaveLength(2)
  })

  it('is read-only for a viewer: no buttons, editors that do not edit', () => {
    const { doc, awareness } = room()
    act(() => root.render(<SectionsPanel doc={doc} awareness={awareness} readOnly checks={null} />))
    expect(host.querySelectorAll('button')).toHaveLength(0)
    const editors = [...host.querySelectorAll('.cm-content')]
    expect(editors.length).toBeGreaterThan(0)
    expect(editors.every((e) => e.getAttribute('contenteditable') === 'false')).toBe(true)
  })

  it('highlights the sections of the interview phase and brings them into view', () => {
    const scrolled: string[] = []
    // jsdom does not scroll
    Element.prototype.scrollIntoView = vi.fn(function (this: Element) {
      scrolled.push(this.getAttribute('data-section') ?? '')
    })
    const { doc, awareness } = room()
    act(() => root.render(<SectionsPanel doc={doc} awareness={awareness} readOnly={false} checks={null} phase="api_and_data_model" />))
    const current = [...host.querySelectorAll('.sec-current')].map((s) => s.getAttribute('data-section'))
    expect(current).toEqual(['api', 'data_model'])
    act(() => root.render(<SectionsPanel doc={doc} awareness={awareness} readOnly={false} checks={null} phase="estimates" />))
    expect([...host.querySelectorAll('.sec-current')].map((s) => s.getAttribute('data-section'))).toEqual(['estimates'])
    expect(host.querySelectorAll('[data-testid=sec-phase]')).toHaveLength(1)
    expect(scrolled).toEqual(['api', 'estimates'])
    act(() => root.render(<SectionsPanel doc={doc} awareness={awareness} readOnly={false} checks={null} phase={null} />))
    expect(host.querySelectorAll('.sec-current')).toHaveLength(0)
  })

  it('gives the host verdict buttons on the API checklist; everyone sees a verdict and who gave it', () => {
    const { doc, awareness } = room()
    const checks = parseSectionChecks({
      checks: [
        {
          id: 'api_coverage',
          title: 'API',
          status: 'pass',
          explanation: 'all 2 hold',
          items: [
            { name: 'Users upload images', status: 'pass', explanation: 'POST /images' },
            {
              name: 'Users tag images',
              status: 'pass',
              explanation: 'covered by the host (Hana); the matching said: no endpoint',
              override: { covered: true, by: 'Hana', at: 1 },
            },
          ],
        },
      ],
    })
    const verdicts: [string, boolean | null][] = []
    const onVerdict = (r: string, c: boolean | null) => verdicts.push([r, c])
    act(() => root.render(<SectionsPanel doc={doc} awareness={awareness} readOnly={false} checks={checks} onVerdict={onVerdict} />))
    const items = section('api').querySelectorAll<HTMLElement>('[data-testid=api-verdict]')
    expect(items).toHaveLength(2)
    expect(items[1].querySelector('[data-testid=api-override]')?.textContent).toBe('host: covered · Hana')
    act(() => items[0].querySelector<HTMLButtonElement>('[data-testid=api-verdict-not-covered]')!.click())
    act(() => items[1].querySelector<HTMLButtonElement>('[data-testid=api-verdict-auto]')!.click())
    expect(verdicts).toEqual([
      ['Users upload images', false],
      ['Users tag images', null],
    ])
    // The covered item's "covered" button is the current verdict: pressed, not clickable again.
    expect(items[1].querySelector<HTMLButtonElement>('[data-testid=api-verdict-covered]')!.disabled).toBe(true)
    // Without onVerdict (the candidate, an observer): the verdict shows, no buttons.
    act(() => root.render(<SectionsPanel doc={doc} awareness={awareness} readOnly={false} checks={checks} />))
    expect(section('api').querySelectorAll('[data-testid=api-override]')).toHaveLength(1)
    expect(section('api').querySelectorAll('button[data-testid^=api-verdict-]')).toHaveLength(0)
  })
})
