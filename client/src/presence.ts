/**
 * Presence over Yjs awareness (docs/PROTOCOL.md §2, "Awareness convention"):
 * `{user: {name, color, role?}, cursor: {x, y} | null, selection: string[], viewport: {x, y, zoom},
 *   notesCursor: {anchor, head} | null}`.
 *
 * `cursor` is the pointer on the canvas in flow coordinates. The notes pad's caret lives under
 * `notesCursor`: y-codemirror.next hard-codes the field name `cursor`, so the notes editor gets
 * {@link NotesAwareness}, a view of the real awareness that maps its `cursor` to `notesCursor`.
 */
import type { Role } from './protocol'
import type { Awareness } from 'y-protocols/awareness'

export interface XY {
  x: number
  y: number
}

export interface Viewport {
  x: number
  y: number
  zoom: number
}

export interface PresenceState {
  user: { name: string; color: string; role?: Role }
  cursor: XY | null
  selection: string[]
  viewport: Viewport | null
  notesCursor?: unknown
}

export interface Participant extends PresenceState {
  clientID: number
  self: boolean
}

// Dark enough for white initials on an avatar (at least 4.9:1, the accessibility check's 4.5 for small text).
const PALETTE = ['#be123c', '#1d4ed8', '#15803d', '#b45309', '#7e22ce', '#0e7490', '#be185d', '#4338ca', '#4d7c0f', '#c2410c']

/** A stable colour for a client id, from a palette that reads on light and dark backgrounds. */
export function colorFor(clientID: number): string {
  return PALETTE[Math.abs(clientID) % PALETTE.length]
}

/**
 * The colour to show: this browser's own, unless someone already present shows it; then the next
 * free one of the palette, for this visit only. Only peers with a lower client id count, so that of
 * two people with the same colour exactly one changes, and no one changes back and forth.
 */
export function distinctColor(own: string, taken: ReadonlySet<string>): string {
  if (!taken.has(own)) return own
  const start = Math.max(0, PALETTE.indexOf(own))
  for (let i = 1; i < PALETTE.length; i++) {
    const c = PALETTE[(start + i) % PALETTE.length]
    if (!taken.has(c)) return c
  }
  return own
}

const NAME_KEY = 'tierboard.name'
const COLOR_KEY = 'tierboard.color'

/**
 * This browser's colour: picked from the palette once and remembered, so that a participant keeps
 * their colour across reloads (the client id, which used to choose it, is new on every load).
 */
export function loadColor(storage: Pick<Storage, 'getItem' | 'setItem'> = localStorage, pick: () => number = Math.random): string {
  try {
    const c = storage.getItem(COLOR_KEY)
    if (c && PALETTE.includes(c)) return c
    const fresh = PALETTE[Math.floor(pick() * PALETTE.length) % PALETTE.length]
    storage.setItem(COLOR_KEY, fresh)
    return fresh
  } catch {
    return PALETTE[0]
  }
}

export function loadName(storage: Pick<Storage, 'getItem'> = localStorage): string | null {
  const n = storage.getItem(NAME_KEY)?.trim()
  return n ? n.slice(0, 40) : null
}

export function saveName(name: string, storage: Pick<Storage, 'setItem'> = localStorage): string {
  const n = name.trim().slice(0, 40)
  storage.setItem(NAME_KEY, n)
  return n
}

function isXY(v: unknown): v is XY {
  const o = v as XY
  return typeof o === 'object' && o !== null && Number.isFinite(o.x) && Number.isFinite(o.y)
}

/** Reads one peer's awareness state; states that do not follow the convention give null. */
export function readPresence(state: Record<string, unknown> | undefined): PresenceState | null {
  if (!state) return null
  const user = state.user as { name?: unknown; color?: unknown; role?: unknown } | undefined
  if (!user || typeof user.name !== 'string') return null
  const vp = state.viewport as Viewport | undefined
  return {
    user: {
      name: user.name.slice(0, 40),
      color: typeof user.color === 'string' ? user.color : '#888',
      ...(user.role === 'host' || user.role === 'edit' || user.role === 'view' ? { role: user.role } : {}),
    },
    cursor: isXY(state.cursor) ? state.cursor : null,
    selection: Array.isArray(state.selection) ? state.selection.filter((s): s is string => typeof s === 'string') : [],
    viewport: vp && isXY(vp) && Number.isFinite(vp.zoom) && vp.zoom > 0 ? vp : null,
  }
}

/**
 * A role in words (issue 22 item 5): the host runs the room, editors are the candidates of an
 * interview (or simply editors in practice), view links are observers.
 */
export function roleLabel(role: Role | undefined, mode: 'practice' | 'interview' | null): string {
  if (role === 'host') return 'Host'
  if (role === 'view') return 'Observer'
  return mode === 'interview' ? 'Candidate' : 'Editor'
}

/** Everyone present, the local participant first, then by name. */
export function participants(awareness: Pick<Awareness, 'getStates' | 'clientID'>): Participant[] {
  const out: Participant[] = []
  awareness.getStates().forEach((s, id) => {
    const p = readPresence(s)
    if (p) out.push({ ...p, clientID: id, self: id === awareness.clientID })
  })
  return out.sort((a, b) => (a.self !== b.self ? (a.self ? -1 : 1) : a.user.name.localeCompare(b.user.name) || a.clientID - b.clientID))
}

type ChangeListener = (...args: unknown[]) => void

/**
 * The awareness as y-codemirror.next sees it: identical, except that its `cursor` field is stored as
 * `notesCursor`, so the canvas pointer (`cursor`) and the notes caret never overwrite each other.
 */
export class NotesAwareness {
  constructor(private readonly inner: Awareness) {}

  get doc() {
    return this.inner.doc
  }

  get clientID() {
    return this.inner.clientID
  }

  private static view(s: Record<string, unknown>): Record<string, unknown> {
    return { ...s, cursor: s.notesCursor ?? null }
  }

  getLocalState(): Record<string, unknown> | null {
    const s = this.inner.getLocalState()
    return s ? NotesAwareness.view(s) : null
  }

  setLocalStateField(field: string, value: unknown): void {
    this.inner.setLocalStateField(field === 'cursor' ? 'notesCursor' : field, value)
  }

  getStates(): Map<number, Record<string, unknown>> {
    const out = new Map<number, Record<string, unknown>>()
    this.inner.getStates().forEach((s, id) => out.set(id, NotesAwareness.view(s)))
    return out
  }

  on(event: string, f: ChangeListener): void {
    this.inner.on(event as 'change', f)
  }

  off(event: string, f: ChangeListener): void {
    this.inner.off(event as 'change', f)
  }
}
