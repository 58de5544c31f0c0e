/**
 * Room links. Tokens travel only in the URL fragment (`#edit=…&view=…` or `#view=…`), which browsers
 * never send to a server or in a Referer; the page also sets `referrer` to `no-referrer`.
 */
import type { Role } from './protocol'

export interface RoomTokens {
  edit?: string
  view?: string
}

export function parseFragment(hash: string): RoomTokens {
  const p = new URLSearchParams(hash.replace(/^#/, ''))
  const out: RoomTokens = {}
  const edit = p.get('edit')
  const view = p.get('view')
  if (edit) out.edit = edit
  if (view) out.view = view
  return out
}

/** The role a set of tokens gives, the strongest first. */
export function roleOf(t: RoomTokens): Role | null {
  return t.edit ? 'edit' : t.view ? 'view' : null
}

export function tokenFor(t: RoomTokens): string | null {
  return t.edit ?? t.view ?? null
}

export function roomPath(room: string): string {
  return `/r/${encodeURIComponent(room)}`
}

/** The edit link carries the view token too, so that an editor can hand out view links. */
export function editLink(origin: string, room: string, t: RoomTokens): string | null {
  if (!t.edit) return null
  const p = new URLSearchParams({ edit: t.edit })
  if (t.view) p.set('view', t.view)
  return `${origin}${roomPath(room)}#${p}`
}

export function viewLink(origin: string, room: string, t: RoomTokens): string | null {
  if (!t.view) return null
  return `${origin}${roomPath(room)}#${new URLSearchParams({ view: t.view })}`
}
