/** Who is here: a participant list with colours; click someone to follow their view. */
import { useEffect, useState } from 'react'
import type { Awareness } from 'y-protocols/awareness'
import { participants, roleLabel, type Participant } from '../presence'
import type { Mode } from '../protocol'

export function useParticipants(awareness: Awareness | null): Participant[] {
  const [list, setList] = useState<Participant[]>([])
  useEffect(() => {
    if (!awareness) return
    let lastKey = ''
    const update = () => {
      const next = participants(awareness)
      // Pointer moves change awareness constantly; re-render only when names, colours or the set change.
      const key = next.map((p) => `${p.clientID}:${p.user.name}:${p.user.color}:${p.user.role ?? ''}`).join('|')
      if (key !== lastKey) {
        lastKey = key
        setList(next)
      }
    }
    update()
    awareness.on('change', update)
    return () => awareness.off('change', update)
  }, [awareness])
  return list
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/)
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase()
}

export function ParticipantList(props: {
  people: Participant[]
  follow: number | null
  onFollow: (id: number | null) => void
  /** Clicking one's own avatar changes one's name. */
  onRename?: () => void
  /** The room's mode and driver (issue 22): roles are named, the driver is marked. */
  mode?: Mode | null
  driver?: number | null
}) {
  const { people, follow, onFollow, onRename } = props
  return (
    <ul className="participants" aria-label="Participants">
      {people.map((p) => {
        const role = roleLabel(p.user.role, props.mode ?? null)
        const driving = props.driver != null && props.driver === p.clientID
        const tag = `${p.user.role === 'view' ? 'view only (observer)' : role.toLowerCase()}${driving ? ', driving' : ''}`
        return (
          <li key={p.clientID}>
            <button
              type="button"
              className={`avatar ${follow === p.clientID ? 'following' : ''} ${p.user.role === 'view' ? 'viewer' : ''} ${driving ? 'driving' : ''}`}
              style={{ background: p.user.color }}
              disabled={p.self && !onRename}
              onClick={() => (p.self ? onRename?.() : onFollow(follow === p.clientID ? null : p.clientID))}
              aria-pressed={p.self ? undefined : follow === p.clientID}
              title={
                (p.self
                  ? `${p.user.name} (you): click to change your name`
                  : follow === p.clientID
                    ? `Following ${p.user.name}; click to stop`
                    : `Follow ${p.user.name}'s view`) + ` · ${tag}`
              }
              data-role={p.user.role}
              data-driver={driving ? 'true' : undefined}
              data-testid="participant"
              data-name={p.user.name}
            >
              {/* The initials are the picture; the hidden words name the person and what a click does
                (as content, not aria-label, which would have to contain the initials). */}
              <span aria-hidden="true">{initials(p.user.name)}</span>
              {(p.user.role === 'host' || driving) && (
                <span className={`avatar-badge ${driving ? 'drive' : 'host'}`} aria-hidden="true" data-testid="avatar-badge">
                  {driving ? '✎' : '★'}
                </span>
              )}
              <span className="sr-only">
                {(p.self
                  ? `${p.user.name} (you): change your name`
                  : follow === p.clientID
                    ? `Stop following ${p.user.name}`
                    : `Follow ${p.user.name}`) + `, ${tag}`}
              </span>
            </button>
          </li>
        )
      })}
    </ul>
  )
}

export function NameDialog(props: { onName: (name: string) => void; initial?: string; onCancel?: () => void }) {
  const [name, setName] = useState(props.initial ?? '')
  return (
    <div className="modal-backdrop">
      <form
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby="name-title"
        onSubmit={(e) => {
          e.preventDefault()
          if (name.trim()) props.onName(name)
        }}
      >
        <h2 id="name-title">{props.initial ? 'Change your name' : 'What should others call you?'}</h2>
        <p className="muted">Your name is shown next to your cursor. It is remembered on this device.</p>
        <input
          autoFocus
          value={name}
          onChange={(e) => setName(e.target.value)}
          aria-label="Your display name"
          maxLength={40}
          placeholder="Your name"
        />
        <div className="row end">
          {props.onCancel && (
            <button type="button" onClick={props.onCancel}>
              Cancel
            </button>
          )}
          <button type="submit" className="primary" disabled={!name.trim()}>
            {props.initial ? 'Save' : 'Join the room'}
          </button>
        </div>
      </form>
    </div>
  )
}
