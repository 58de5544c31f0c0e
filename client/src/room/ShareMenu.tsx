/** The Share menu: the room's edit and view links, with copy buttons (a view link never holds the edit token). */
import { editLink, viewLink, type RoomTokens } from '../links'
import { Menu } from './Menu'

export function ShareMenu({ room, tokens, onCopied }: { room: string; tokens: RoomTokens; onCopied: (m: string) => void }) {
  const edit = editLink(location.origin, room, tokens)
  const view = viewLink(location.origin, room, tokens)
  const copy = (text: string, what: string) => {
    const fallback = () => onCopied(`Select the ${what.toLowerCase()} in the box and copy it`)
    if (!navigator.clipboard) return fallback()
    navigator.clipboard.writeText(text).then(() => onCopied(`${what} copied`), fallback)
  }
  return (
    <Menu label="Share" ariaLabel="Share this room" className="share" wide>
      {edit && <LinkField what="Edit link" hint="anyone with it can change the design" url={edit} copy={copy} />}
      {view && <LinkField what="View link" hint="read-only" url={view} copy={copy} />}
    </Menu>
  )
}

function LinkField({ what, hint, url, copy }: { what: string; hint: string; url: string; copy: (text: string, what: string) => void }) {
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
      </div>
    </label>
  )
}
