/** Who is here: a participant list with colours; click someone to follow their view. */
import { useEffect, useState } from 'react'
import type { Awareness } from 'y-protocols/awareness'
import { participants, type Participant } from '../presence'

export function useParticipants(awareness: Awareness | null): Participant[] {
  const [list, setList] = useState<Participant[]>([])
  useEffect(() => {
    if (!awareness) return
    let lastKey = ''
    const update = () => {
      const next = participants(awareness)
      // Pointer moves change awareness constantly; re-render only when names, colours or the set change.
      const key = next.map((p) => `${p.clientID}:${p.user.name}:${p.user.color}`).join('|')
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

export function ParticipantList(props: { people: Participant[]; follow: number | null; onFollow: (id: number | null) => void }) {
  const { people, follow, onFollow } = props
  return (
    <ul className="participants" aria-label="Participants">
      {people.map((p) => (
        <li key={p.clientID}>
          <button
            type="button"
            className={`avatar ${follow === p.clientID ? 'following' : ''}`}
            style={{ background: p.user.color }}
            disabled={p.self}
            onClick={() => onFollow(follow === p.clientID ? null : p.clientID)}
            aria-pressed={follow === p.clientID}
            aria-label={p.self ? `${p.user.name} (you)` : follow === p.clientID ? `Stop following ${p.user.name}` : `Follow ${p.user.name}`}
            title={
              p.self
                ? `${p.user.name} (you)`
                : follow === p.clientID
                  ? `Following ${p.user.name}; click to stop`
                  : `Follow ${p.user.name}'s view`
            }
            data-testid="participant"
            data-name={p.user.name}
          >
            {initials(p.user.name)}
          </button>
        </li>
      ))}
    </ul>
  )
}

export function NameDialog(props: { onName: (name: string) => void }) {
  const [name, setName] = useState('')
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
        <h2 id="name-title">What should others call you?</h2>
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
          <button type="submit" className="primary" disabled={!name.trim()}>
            Join the room
          </button>
        </div>
      </form>
    </div>
  )
}
