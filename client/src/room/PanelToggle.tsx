/**
 * Opening and closing the room's side panel, so that the canvas can take the whole width on a
 * laptop or the whole height on a phone (issue 21: "the canvas stays usable beside it"). The choice
 * is remembered per browser, like the theme: a learner who reads the problem beside the canvas keeps
 * it open, one who draws on a phone keeps it closed.
 */
import { useCallback, useState } from 'react'

const KEY = 'tierboard.panel'

/** Whether the panel is open, a toggle, and `show` (open it, as "show the problem" does). */
export function usePanelOpen(): [boolean, () => void, () => void] {
  const [open, setOpen] = useState(() => {
    try {
      return localStorage.getItem(KEY) !== 'closed'
    } catch {
      return true
    }
  })
  const set = useCallback((next: (o: boolean) => boolean) => {
    setOpen((o) => {
      const n = next(o)
      try {
        localStorage.setItem(KEY, n ? 'open' : 'closed')
      } catch {
        // storage refused (private mode, quota): the panel still toggles for this visit
      }
      return n
    })
  }, [])
  const toggle = useCallback(() => set((o) => !o), [set])
  const show = useCallback(() => set(() => true), [set])
  return [open, toggle, show]
}

/** The handle at the panel's edge: an arrow on a desktop, a sheet handle on a phone. */
export function PanelToggle({ open, onToggle, controls }: { open: boolean; onToggle: () => void; controls: string }) {
  return (
    <button
      type="button"
      className="panel-toggle"
      aria-expanded={open}
      aria-controls={controls}
      onClick={onToggle}
      title={open ? 'Hide the panel' : 'Show the panel'}
    >
      <span className="panel-toggle-arrow" aria-hidden="true" />
      <span className="panel-toggle-text sr-only">{open ? 'Hide panel' : 'Show panel'}</span>
    </button>
  )
}
