// Identity in a room (issue 24, item 7): a colour that survives reloads, and the role in presence so
// that others can tell who only views.
import { describe, expect, it } from 'vitest'
import { distinctColor, loadColor, readPresence } from './presence'

function memory(): Pick<Storage, 'getItem' | 'setItem'> & { data: Map<string, string> } {
  const data = new Map<string, string>()
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v) }
}

describe('the colour of this browser', () => {
  it('is picked once and then the same on every load', () => {
    const store = memory()
    const first = loadColor(store, () => 0.35)
    expect(first).toMatch(/^#[0-9a-f]{6}$/)
    expect(loadColor(store, () => 0.95)).toBe(first)
    expect(loadColor(store, () => 0)).toBe(first)
  })

  it('is picked afresh when the stored one is not from the palette', () => {
    const store = memory()
    store.setItem('tierboard.color', 'javascript:alert(1)')
    const c = loadColor(store, () => 0)
    expect(c).not.toBe('javascript:alert(1)')
    expect(loadColor(store, () => 0.9)).toBe(c)
  })
})

describe('presence with a role', () => {
  it('reads edit and view, and ignores anything else', () => {
    const state = (role: unknown) => ({ user: { name: 'Vera', color: '#2563eb', role } })
    expect(readPresence(state('view'))!.user).toEqual({ name: 'Vera', color: '#2563eb', role: 'view' })
    expect(readPresence(state('edit'))!.user.role).toBe('edit')
    expect(readPresence(state('admin'))!.user).toEqual({ name: 'Vera', color: '#2563eb' })
    expect(readPresence({ user: { name: 'Old client', color: '#000' } })!.user.role).toBeUndefined()
  })
})

describe('two people with the same colour', () => {
  it('keeps one’s own colour when free, else takes the next free one', () => {
    expect(distinctColor('#1d4ed8', new Set(['#be123c']))).toBe('#1d4ed8')
    expect(distinctColor('#1d4ed8', new Set(['#1d4ed8']))).toBe('#15803d')
    expect(distinctColor('#1d4ed8', new Set(['#1d4ed8', '#15803d']))).toBe('#b45309')
  })
})
