/** The list of keyboard shortcuts (`?` in a room); the keys themselves are handled by `useShortcuts`. */
export function ShortcutsHelp({ onClose, readOnly }: { onClose: () => void; readOnly: boolean }) {
  const rows: [string, string][] = [
    ['F', 'fit the design in view'],
    ['Drag on the canvas', 'select an area (Shift + drag with the hand tool)'],
    ['Space + drag, middle button', 'pan'],
    ['H / V', 'hand tool (drag pans) / select tool'],
    ['Shift/Ctrl + click', 'add to the selection'],
    ['Ctrl + A', 'select all'],
    ['Ctrl + C', 'copy the selection with its edges (pastes into any room)'],
    ['Esc', 'clear the selection'],
  ]
  if (!readOnly) {
    rows.push(
      ['Delete / Backspace', 'delete the selection'],
      ['Ctrl + D', 'duplicate the selection'],
      ['Ctrl + X / Ctrl + V', 'cut / paste under the pointer'],
      ['Ctrl + Z', 'undo your last change'],
      ['Ctrl + Shift + Z / Ctrl + Y', 'redo'],
    )
  }
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby="keys-title" onClick={(e) => e.stopPropagation()}>
        <h2 id="keys-title">Keyboard shortcuts</h2>
        <dl className="kv">
          {rows.map(([k, v]) => (
            <div key={k}>
              <dt>
                <kbd>{k}</kbd>
              </dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
        <div className="row end">
          <button type="button" onClick={onClose} autoFocus>
            Close
          </button>
        </div>
      </div>
    </div>
  )
}
