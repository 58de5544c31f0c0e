// @vitest-environment jsdom
// "Your rooms" (issue 24, item 2): the rooms a browser has been in, kept in localStorage, and the
// landing page's list of them.
import { beforeEach, describe, expect, it } from 'vitest'
import { act } from 'react'
import { ago, roomHref, YourRooms } from './browser/YourRooms'
import { forgetRoom, loadRooms, MAX_ROOMS, mergeRoom, parseRooms, rememberRoom, ROOMS_KEY } from './recentRooms'
import { setupHost } from './testing/render'

beforeEach(() => localStorage.clear())

describe('the stored room list', () => {
  it('records a visit, then the problem and the tiers, newest visit first', () => {
    rememberRoom({ room: 'r1', tokens: { view: 'v1' }, lastVisit: 1000 })
    rememberRoom({ room: 'r2', tokens: { edit: 'e2', view: 'v2' }, lastVisit: 2000 })
    rememberRoom({ room: 'r1', problem: 'tutorial-simple-blog', title: 'Blog' })
    rememberRoom({ room: 'r1', reached: 0, tiers: 3 })
    const [first, second] = loadRooms()
    expect(first).toMatchObject({ room: 'r2', role: 'edit', lastVisit: 2000, reached: null })
    expect(second).toEqual({
      room: 'r1',
      problem: 'tutorial-simple-blog',
      title: 'Blog',
      role: 'view',
      tokens: { view: 'v1' },
      lastVisit: 1000,
      reached: 0,
      tiers: 3,
    })
  })

  it('keeps the edit token once seen: opening the view link later does not demote the room', () => {
    const before = mergeRoom(undefined, { room: 'r', tokens: { edit: 'e', view: 'v' }, lastVisit: 1 })
    expect(mergeRoom(before, { room: 'r', tokens: { view: 'v' }, lastVisit: 2 })).toMatchObject({
      role: 'edit',
      tokens: { edit: 'e', view: 'v' },
      lastVisit: 2,
    })
  })

  it('does not record news of a room it never opened, nor rewrite storage when nothing changed', () => {
    rememberRoom({ room: 'ghost', reached: 1, tiers: 3 })
    expect(localStorage.getItem(ROOMS_KEY)).toBeNull()
    rememberRoom({ room: 'r', tokens: { edit: 'e' }, lastVisit: 5 })
    const raw = localStorage.getItem(ROOMS_KEY)
    localStorage.setItem(ROOMS_KEY, raw + ' ')
    rememberRoom({ room: 'r', tokens: { edit: 'e' } })
    expect(localStorage.getItem(ROOMS_KEY)).toBe(raw + ' ')
  })

  it('keeps the newest rooms up to its limit, and forgets on request', () => {
    for (let i = 0; i < MAX_ROOMS + 5; i++) rememberRoom({ room: `r${i}`, tokens: { view: `v${i}` }, lastVisit: i })
    const rooms = loadRooms()
    expect(rooms).toHaveLength(MAX_ROOMS)
    expect(rooms[0].room).toBe(`r${MAX_ROOMS + 4}`)
    forgetRoom(rooms[0].room)
    expect(loadRooms().map((r) => r.room)).not.toContain(`r${MAX_ROOMS + 4}`)
  })

  it('reads stored entries leniently: a bad entry is dropped, not the list', () => {
    const rooms = parseRooms([
      { room: 'ok', tokens: { edit: 'e' }, lastVisit: 3, reached: 2, tiers: 3 },
      { room: 'no-token', tokens: {}, lastVisit: 3 },
      { room: 'bad-visit', tokens: { view: 'v' }, lastVisit: 'yesterday' },
      'nonsense',
      null,
      { room: 'odd-tiers', tokens: { view: 'v' }, lastVisit: 1, reached: -1, tiers: 2.5 },
    ])
    expect(rooms.map((r) => [r.room, r.reached, r.tiers])).toEqual([
      ['ok', 2, 3],
      ['odd-tiers', null, null],
    ])
    expect(parseRooms({ not: 'a list' })).toEqual([])
    localStorage.setItem(ROOMS_KEY, '{broken')
    expect(loadRooms()).toEqual([])
  })
})

describe('the landing page list', () => {
  const dom = setupHost()

  it('shows nothing before a room was opened here', () => {
    act(() => dom.root().render(<YourRooms />))
    expect(dom.host().innerHTML).toBe('')
  })

  it('lists each room with its role, tiers and last visit, links back with its tokens, and forgets', () => {
    rememberRoom({
      room: 'r1',
      tokens: { edit: 'e1', view: 'v1' },
      lastVisit: Date.now() - 5 * 60_000,
      problem: 'p',
      title: 'Design a Blog',
      reached: 2,
      tiers: 3,
    })
    rememberRoom({ room: 'r2', tokens: { view: 'v2' }, lastVisit: Date.now() - 3 * 86_400_000 })
    act(() => dom.root().render(<YourRooms />))
    const cards = [...dom.host().querySelectorAll('[data-testid="your-room"]')]
    expect(cards.map((c) => c.querySelector('.room-card-title')!.textContent)).toEqual(['Design a Blog', 'Untitled room'])
    expect(cards[0].textContent).toContain('Editor')
    expect(cards[0].textContent).toContain('2 of 3 tiers')
    expect(cards[0].querySelector('time')!.textContent).toBe('5 minutes ago')
    expect(cards[0].querySelector('a')!.getAttribute('href')).toBe('/r/r1#edit=e1&view=v1')
    expect(cards[1].textContent).toContain('View only')
    expect(cards[1].querySelector('a')!.getAttribute('href')).toBe('/r/r2#view=v2')
    act(() => (cards[0].querySelector('button') as HTMLButtonElement).click())
    expect(dom.host().querySelectorAll('[data-testid="your-room"]')).toHaveLength(1)
  })

  it('says how long ago in words', () => {
    const now = 10 * 86_400_000
    expect(ago(now - 10_000, now)).toBe('just now')
    expect(ago(now - 2 * 3_600_000, now)).toBe('2 hours ago')
    expect(ago(now - 86_400_000, now)).toBe('yesterday')
    expect(roomHref({ room: 'a b', tokens: { view: 'v' } } as Parameters<typeof roomHref>[0])).toBe('/r/a%20b#view=v')
  })
})
