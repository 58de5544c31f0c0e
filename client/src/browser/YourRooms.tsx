/**
 * "Your rooms" on the landing page (issue 24, item 2): the rooms this browser has been in, newest
 * first, with the problem, the role, the last visit and the tiers reached, an Open link that carries
 * the room's tokens again, and Forget. Nothing shows until a room has been opened here.
 */
import { useState } from 'react'
import { editLink, hostLink, viewLink } from '../links'
import { forgetRoom, useRecentRooms, type RecentRoom } from '../recentRooms'
import './landing.css'

/** How many rooms show before "Show all". */
const FIRST = 6

const rtf = typeof Intl !== 'undefined' && 'RelativeTimeFormat' in Intl ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null

/** "5 minutes ago", "yesterday": the largest unit that is at least one. */
export function ago(then: number, now = Date.now()): string {
  const s = Math.round((then - now) / 1000)
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ['year', 365 * 86400],
    ['month', 30 * 86400],
    ['week', 7 * 86400],
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ]
  for (const [unit, secs] of steps) {
    if (Math.abs(s) >= secs) return rtf ? rtf.format(Math.round(s / secs), unit) : `${Math.round(-s / secs)} ${unit}s ago`
  }
  return 'just now'
}

const ROLE_WORDS = { host: 'Host', edit: 'Editor', view: 'View only' } as const

/** The room's link on this site (path and fragment), the host's or the editor's when this browser has it. */
export function roomHref(r: RecentRoom): string {
  return (hostLink('', r.room, r.tokens) ?? editLink('', r.room, r.tokens) ?? viewLink('', r.room, r.tokens))!
}

export function YourRooms() {
  const rooms = useRecentRooms()
  const [all, setAll] = useState(false)
  if (rooms.length === 0) return null
  const shown = all ? rooms : rooms.slice(0, FIRST)
  return (
    <section className="your-rooms" aria-labelledby="your-rooms-title">
      <div className="your-rooms-head">
        <h2 id="your-rooms-title">Your rooms</h2>
        <span className="muted small">kept in this browser only</span>
      </div>
      <ul className="your-rooms-list">
        {shown.map((r) => (
          <li key={r.room} className="room-card" data-testid="your-room" data-room={r.room}>
            {/* A full page load: the room reads its tokens from the fragment when it opens. */}
            <a href={roomHref(r)} className="room-card-open">
              <span className="room-card-title">{r.title ?? 'Untitled room'}</span>
              <span className="room-card-meta">
                <span className={`chip ${r.role !== 'view' ? 'role-edit' : ''}`}>{ROLE_WORDS[r.role]}</span>
                {r.tiers !== null && r.reached !== null && (
                  <span className="chip" data-testid="your-room-tiers">
                    {r.reached} of {r.tiers} tiers
                  </span>
                )}
                <time dateTime={new Date(r.lastVisit).toISOString()} title={new Date(r.lastVisit).toLocaleString()}>
                  {ago(r.lastVisit)}
                </time>
              </span>
              {r.tiers !== null && r.reached !== null && (
                <progress
                  className={`room-card-bar ${r.reached === r.tiers ? 'full' : ''}`}
                  value={r.reached}
                  max={Math.max(1, r.tiers)}
                  aria-hidden="true"
                />
              )}
            </a>
            <button
              type="button"
              className="room-card-forget"
              onClick={() => forgetRoom(r.room)}
              aria-label={`Forget ${r.title ?? 'this room'} (${ROLE_WORDS[r.role].toLowerCase()})`}
              title="Forget this room in this browser (the room itself stays)"
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      {rooms.length > FIRST && (
        <button type="button" className="link" onClick={() => setAll((a) => !a)}>
          {all ? 'Show fewer' : `Show all ${rooms.length} rooms`}
        </button>
      )}
    </section>
  )
}
