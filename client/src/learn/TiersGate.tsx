/**
 * The tiers on the problem page behind a choice (issue 24, item 8): their rules are the checks a
 * design is judged by, so reading them before drawing gives the answer away. A learner shows them
 * with one click, and the choice is remembered in this browser (a reviewer keeps them shown). The
 * room's tier panel shows them regardless: there they are feedback on one's own design.
 */
import { useState, type ReactNode } from 'react'

export const TIERS_SHOWN_KEY = 'tierboard.tiers.shown'

function stored(): boolean {
  try {
    return localStorage.getItem(TIERS_SHOWN_KEY) === 'yes'
  } catch {
    return false
  }
}

export function TiersGate({ count, children }: { count: number; children: ReactNode }) {
  const [shown, setShown] = useState(stored)
  const choose = (v: boolean) => {
    try {
      localStorage.setItem(TIERS_SHOWN_KEY, v ? 'yes' : 'no')
    } catch {
      // storage refused: the choice holds for this page
    }
    setShown(v)
  }
  if (shown) {
    return (
      <>
        {children}
        <button type="button" className="link small" onClick={() => choose(false)}>
          Hide the tiers until I ask
        </button>
      </>
    )
  }
  return (
    <div className="tiers-gate">
      <p>
        The {count} tier{count === 1 ? '' : 's'} list the checks a design is judged by. Reading them before you draw gives the answer away;
        the room shows each one as your design meets it.
      </p>
      <button type="button" onClick={() => choose(true)}>
        Show the tiers
      </button>
    </div>
  )
}
