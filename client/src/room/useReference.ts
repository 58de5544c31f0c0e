/**
 * The room's answer (issue 21 item 4, issue 22), fetched only when someone asks for it: the reference
 * design and analysis, and whether its ghost is drawn over this participant's canvas (a personal view
 * setting, not shared: each learner, or the host, decides when to look). It comes from the room's own
 * route (`GET /api/rooms/{room}/solution`), which serves the host always, and the others in practice
 * rooms or once the host revealed it: `allowed` is false while it would not, so nothing is asked.
 */
import { useCallback, useEffect, useState } from 'react'
import { getRoomSolution, type Solution } from '../api'

export interface ReferenceState {
  asked: boolean
  solution: Solution | null
  error: string | null
  ghost: boolean
  show: () => void
  setGhost: (on: boolean) => void
}

export function useReference(room: string, token: string | null, allowed: boolean): ReferenceState {
  const [asked, setAsked] = useState(false)
  const [solution, setSolution] = useState<Solution | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [ghost, setGhost] = useState(false)
  useEffect(() => {
    if (!asked || !token || !allowed) return
    const ctl = new AbortController()
    setError(null)
    getRoomSolution(room, token, ctl.signal).then(setSolution, (e: Error) => !ctl.signal.aborted && setError(e.message))
    return () => ctl.abort()
  }, [asked, room, token, allowed])
  // Taken back (the host hid it again): forget what was shown.
  useEffect(() => {
    if (allowed) return
    setSolution(null)
    setGhost(false)
    setAsked(false)
  }, [allowed])
  const show = useCallback(() => {
    setAsked(true)
    setGhost(true)
  }, [])
  return { asked, solution: allowed ? solution : null, error, ghost: allowed && ghost, show, setGhost }
}
