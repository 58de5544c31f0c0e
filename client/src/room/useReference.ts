/**
 * The answer in a practice room (issue 21 item 4), fetched only when someone asks for it: the
 * reference design and analysis, and whether its ghost is drawn over this participant's canvas
 * (a personal view setting, not shared: each learner decides when to look).
 */
import { useCallback, useEffect, useState } from 'react'
import { getSolution, type Solution } from '../api'

export interface ReferenceState {
  asked: boolean
  solution: Solution | null
  error: string | null
  ghost: boolean
  show: () => void
  setGhost: (on: boolean) => void
}

export function useReference(problemId: string | null): ReferenceState {
  const [asked, setAsked] = useState(false)
  const [solution, setSolution] = useState<Solution | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [ghost, setGhost] = useState(false)
  useEffect(() => {
    if (!asked || !problemId) return
    const ctl = new AbortController()
    getSolution(problemId, ctl.signal).then(setSolution, (e: Error) => !ctl.signal.aborted && setError(e.message))
    return () => ctl.abort()
  }, [asked, problemId])
  const show = useCallback(() => {
    setAsked(true)
    setGhost(true)
  }, [])
  return { asked, solution, error, ghost, show, setGhost }
}
