/**
 * Room links. Tokens travel only in the URL fragment (`#host=…&edit=…&view=…`, `#edit=…&view=…` or
 * `#view=…`), which browsers never send to a server or in a Referer; the page also sets `referrer` to
 * `no-referrer`. The host link carries the edit and view tokens too, so that the host can hand them out.
 */
import type { Role } from './protocol'

export interface RoomTokens {
  host?: string
  edit?: string
  view?: string
}

export function parseFragment(hash: string): RoomTokens {
  const p = new URLSearchParams(hash.replace(/^#/, ''))
  const out: RoomTokens = {}
  for (const k of ['host', 'edit', 'view'] as const) {
    const v = p.get(k)
    if (v) out[k] = v
  }
  return out
}

/** The role a set of tokens gives, the strongest first. */
export function roleOf(t: RoomTokens): Role | null {
  return t.host ? 'host' : t.edit ? 'edit' : t.view ? 'view' : null
}

export function tokenFor(t: RoomTokens): string | null {
  return t.host ?? t.edit ?? t.view ?? null
}

export function roomPath(room: string): string {
  return `/r/${encodeURIComponent(room)}`
}

/** The fragment of a set of tokens (without `#`), the strongest first. */
export function fragmentOf(t: RoomTokens): string {
  const p = new URLSearchParams()
  for (const k of ['host', 'edit', 'view'] as const) if (t[k]) p.set(k, t[k]!)
  return p.toString()
}

/** The host's own link: every token. Only for the host's eyes. */
export function hostLink(origin: string, room: string, t: RoomTokens): string | null {
  if (!t.host) return null
  return `${origin}${roomPath(room)}#${fragmentOf(t)}`
}

/** The edit link carries the view token too, so that an editor can hand out view links. */
export function editLink(origin: string, room: string, t: RoomTokens): string | null {
  if (!t.edit) return null
  return `${origin}${roomPath(room)}#${fragmentOf({ edit: t.edit, view: t.view })}`
}

export function viewLink(origin: string, room: string, t: RoomTokens): string | null {
  if (!t.view) return null
  return `${origin}${roomPath(room)}#${new URLSearchParams({ view: t.view })}`
}
