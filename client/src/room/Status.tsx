/** The room's link and save status: connected or not, and whether one's own edits are stored. */
import type { RoomState } from './connection'

export function Status({ state, readOnly }: { state: RoomState; readOnly: boolean }) {
  const label = state.status === 'connected' ? 'Connected' : state.status === 'connecting' ? 'Connecting…' : 'Offline'
  let saved = ''
  if (!readOnly) {
    if (state.saved) saved = 'Saved'
    else saved = state.status === 'connected' ? 'Saving…' : 'Kept on this device'
  }
  return (
    <div className="status" aria-live="polite">
      <span className={`dot ${state.status}`} aria-hidden="true" />
      <span data-testid="link-status">{label}</span>
      {saved && (
        <span className="muted" data-testid="save-status">
          · {saved}
        </span>
      )}
    </div>
  )
}
