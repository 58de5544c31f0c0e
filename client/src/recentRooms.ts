/**
 * The rooms this browser has been in (issue 24, item 2): a room's link is its tokens in the URL
 * fragment, and nothing else remembers them, so closing the tab used to lose the room. Each visit
 * is kept in localStorage with what the landing page shows: the problem, the role, the last visit and
 * the tier progress. The tokens stay in this browser, as they already do in its history and in the
 * room's offline copy (IndexedDB); "Forget" removes an entry.
 */
import { useEffect, useSyncExternalStore } from 'react'
import type { RoomTokens } from './links'
import type { Role } from './protocol'

export const ROOMS_KEY = 'tierboard.rooms.v1'
/** The oldest visits fall off past this many rooms. */
export const MAX_ROOMS = 50

export interface RecentRoom {
  room: string
  /** The problem's id and title, once known. */
  problem: string | null
  title: string | null
  role: Role
  tokens: RoomTokens
  /** Milliseconds since the epoch of the last time the room was opened here. */
  lastVisit: number
  /** Tiers reached of how many, from the server's last verdict seen here. */
  reached: number | null
  tiers: number | null
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length < 400 ? v : null)
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null)

/** Reads stored entries leniently: a malformed entry is dropped, never the whole list. */
export function parseRooms(v: unknown): RecentRoom[] {
  if (!Array.isArray(v)) return []
  const out: RecentRoom[] = []
  for (const e of v as Record<string, unknown>[]) {
    if (typeof e !== 'object' || e === null) continue
    const room = str(e.room)
    const t = (typeof e.tokens === 'object' && e.tokens !== null ? e.tokens : {}) as Record<string, unknown>
    const tokens: RoomTokens = {}
    if (str(t.host)) tokens.host = str(t.host)!
    if (str(t.edit)) tokens.edit = str(t.edit)!
    if (str(t.view)) tokens.view = str(t.view)!
    const role: Role | null = tokens.host ? 'host' : tokens.edit ? 'edit' : tokens.view ? 'view' : null
    const lastVisit = int(e.lastVisit)
    if (!room || !role || lastVisit === null) continue
    out.push({ room, problem: str(e.problem), title: str(e.title), role, tokens, lastVisit, reached: int(e.reached), tiers: int(e.tiers) })
  }
  return out.sort((a, b) => b.lastVisit - a.lastVisit)
}

/** The entry after an update: tokens only ever gain (an edit link seen once keeps the room editable). */
export function mergeRoom(before: RecentRoom | undefined, update: Partial<RecentRoom> & { room: string }): RecentRoom {
  const tokens = { ...before?.tokens, ...update.tokens }
  return {
    room: update.room,
    problem: update.problem ?? before?.problem ?? null,
    title: update.title ?? before?.title ?? null,
    role: tokens.host ? 'host' : tokens.edit ? 'edit' : 'view',
    tokens,
    lastVisit: update.lastVisit ?? before?.lastVisit ?? Date.now(),
    reached: update.reached ?? before?.reached ?? null,
    tiers: update.tiers ?? before?.tiers ?? null,
  }
}

// ---- the store: localStorage plus subscribers (other tabs arrive through the storage event) ----

const listeners = new Set<() => void>()
let cache: { raw: string | null; value: RecentRoom[] } = { raw: null, value: [] }

function readRaw(): string | null {
  try {
    return localStorage.getItem(ROOMS_KEY)
  } catch {
    return null
  }
}

export function loadRooms(): RecentRoom[] {
  const raw = readRaw()
  if (raw !== cache.raw) {
    let value: RecentRoom[] = []
    try {
      value = raw ? parseRooms(JSON.parse(raw)) : []
    } catch {
      console.warn('tierboard: the stored room list is not JSON; starting afresh')
    }
    cache = { raw, value }
  }
  return cache.value
}

function save(rooms: RecentRoom[]) {
  try {
    localStorage.setItem(ROOMS_KEY, JSON.stringify(rooms.slice(0, MAX_ROOMS)))
  } catch (e) {
    console.warn('tierboard: the room list was not saved', e)
  }
  listeners.forEach((l) => l())
}

/**
 * Records a visit or news of a room. Writes only when something shown changes, so that a stream of
 * validations does not rewrite storage.
 */
export function rememberRoom(update: Partial<RecentRoom> & { room: string; tokens?: RoomTokens }) {
  const all = loadRooms()
  const before = all.find((r) => r.room === update.room)
  if (!before && !update.tokens?.host && !update.tokens?.edit && !update.tokens?.view) return
  const next = mergeRoom(before, update)
  if (before && JSON.stringify(before) === JSON.stringify(next)) return
  save([next, ...all.filter((r) => r.room !== update.room)].sort((a, b) => b.lastVisit - a.lastVisit))
}

export function forgetRoom(room: string) {
  save(loadRooms().filter((r) => r.room !== room))
}

function subscribe(l: () => void) {
  listeners.add(l)
  const onStorage = (e: StorageEvent) => e.key === ROOMS_KEY && l()
  window.addEventListener('storage', onStorage)
  return () => {
    listeners.delete(l)
    window.removeEventListener('storage', onStorage)
  }
}

const NONE: RecentRoom[] = []

export function useRecentRooms(): RecentRoom[] {
  return useSyncExternalStore(subscribe, loadRooms, () => NONE)
}

/**
 * The room page's part: the visit when the room opens, the problem once it is known, and the tiers
 * reached whenever the server's verdict changes them.
 */
export function useRememberRoom(
  room: string,
  tokens: RoomTokens,
  problem: { id: string; title: string } | null,
  reached: number,
  tiers: number,
) {
  useEffect(() => {
    rememberRoom({ room, tokens, lastVisit: Date.now() })
  }, [room, tokens])
  const id = problem?.id
  const title = problem?.title
  useEffect(() => {
    if (id) rememberRoom({ room, problem: id, title })
  }, [room, id, title])
  useEffect(() => {
    if (tiers > 0) rememberRoom({ room, reached, tiers })
  }, [room, reached, tiers])
}
