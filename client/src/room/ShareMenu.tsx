/**
 * The Share menu: the room's links with copy buttons (a view link never holds the edit token). The
 * host (issue 22) also keeps their own link here, and can revoke a link and issue a new one: whoever
 * holds the old one is disconnected at once and cannot come back.
 */
import { useState, type ReactNode } from 'react'
import { rotateToken } from '../api'
import { editLink, hostLink, viewLink, type RoomTokens } from '../links'
import type { Mode } from '../protocol'
import { Menu } from './Menu'

export function ShareMenu(props: {
  room: string
  tokens: RoomTokens
  mode: Mode | null
  onCopied: (m: string) => void
  /** The host re-issued a link: the page keeps the new tokens. */
  onRotated: (t: RoomTokens) => void
}) {
  const { room, tokens, onCopied } = props
  const edit = editLink(location.origin, room, tokens)
  const view = viewLink(location.origin, room, tokens)
  const host = hostLink(location.origin, room, tokens)
  const interview = props.mode === 'interview'
  const [busy, setBusy] = useState<'edit' | 'view' | null>(null)
  // Revoking disconnects people: the first click asks, the second does it.
  const [arming, setArming] = useState<'edit' | 'view' | null>(null)
  const [error, setError] = useState<string | null>(null)
  const copy = (text: string, what: string) => {
    const fallback = () => onCopied(`Select the ${what.toLowerCase()} in the box and copy it`)
    if (!navigator.clipboard) return fallback()
    navigator.clipboard.writeText(text).then(() => onCopied(`${what} copied`), fallback)
  }
  const rotate = async (role: 'edit' | 'view') => {
    if (!tokens.host) return
    if (arming !== role) return setArming(role)
    setArming(null)
    setBusy(role)
    setError(null)
    try {
      const token = await rotateToken(room, tokens.host, role)
      props.onRotated({ ...tokens, [role]: token })
      onCopied(`A new ${role} link is ready: the old one no longer works`)
    } catch (e) {
      setError(`Could not re-issue the link: ${(e as Error).message}`)
    } finally {
      setBusy(null)
    }
  }
  const rotator = (role: 'edit' | 'view') =>
    tokens.host ? (
      <button
        type="button"
        className={`small ${arming === role ? 'danger' : ''}`}
        onClick={() => rotate(role)}
        onBlur={() => setArming((a) => (a === role ? null : a))}
        disabled={busy !== null}
        data-testid={`rotate-${role}`}
        title="Whoever holds the current link is disconnected at once"
      >
        {busy === role ? 'Re-issuing…' : arming === role ? 'Click again: disconnect its holders' : 'Revoke and re-issue'}
      </button>
    ) : null
  return (
    <Menu label="Share" ariaLabel="Share this room" className="share" wide>
      {error && (
        <p className="error-box small" role="alert">
          {error}
        </p>
      )}
      {edit && (
        <LinkField
          what={interview ? 'Candidate link' : 'Edit link'}
          hint={interview ? 'edits the design; sees only what you reveal' : 'anyone with it can change the design'}
          url={edit}
          copy={copy}
          extra={rotator('edit')}
        />
      )}
      {view && (
        <LinkField what={interview ? 'Observer link' : 'View link'} hint="read-only" url={view} copy={copy} extra={rotator('view')} />
      )}
      {host && <LinkField what="Your host link" hint="keep it private: it runs the room and shows the answer" url={host} copy={copy} />}
    </Menu>
  )
}

function LinkField(props: { what: string; hint: string; url: string; copy: (text: string, what: string) => void; extra?: ReactNode }) {
  const { what, hint, url, copy } = props
  return (
    <label className="field">
      <span>
        {what}: {hint}
      </span>
      <div className="row">
        <input readOnly value={url} aria-label={what} onFocus={(e) => e.target.select()} />
        <button type="button" onClick={() => copy(url, what)}>
          Copy
        </button>
        {props.extra}
      </div>
    </label>
  )
}
