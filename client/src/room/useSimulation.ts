/**
 * The capacity figures a participant sees. The room's shared result (the server's `simulation`
 * message: the design at the problem's peak) by default; a what-if scenario (normal, a spike, a failed
 * node, cold caches) is run through `POST /api/simulate` for this person only and never changes the
 * room. A what-if follows the design: it is re-run, debounced, as anyone edits.
 */
import { useCallback, useEffect, useState } from 'react'
import type * as Y from 'yjs'
import { simulateDesign } from '../api'
import { exportDesign } from '../schema'
import { isPlainPeak, PEAK, type ScenarioRequest, type SimulationResult } from '../simulation'

/** Edits arrive in bursts (a drag writes every 40 ms): simulate once they pause. */
const DEBOUNCE_MS = 250

export interface Simulated {
  result: SimulationResult | null
  pending: boolean
  error: string | null
}

/**
 * `POST /api/simulate` for `scenario` whenever the design changes, while `enabled`. Only the latest
 * request's answer is kept (earlier ones are aborted).
 */
export function useSimulated(doc: Y.Doc, problem: string | null, scenario: ScenarioRequest, enabled: boolean): Simulated {
  const [state, setState] = useState<Simulated>({ result: null, pending: false, error: null })
  const key = JSON.stringify(scenario)
  useEffect(() => {
    if (!enabled || !problem) return
    const wanted = JSON.parse(key) as ScenarioRequest
    let ctl: AbortController | null = null
    let timer: ReturnType<typeof setTimeout> | null = null
    const run = () => {
      timer = null
      ctl?.abort()
      const mine = new AbortController()
      ctl = mine
      setState((s) => ({ ...s, pending: true }))
      simulateDesign(problem, exportDesign(doc), wanted, mine.signal).then(
        (result) => !mine.signal.aborted && setState({ result, pending: false, error: null }),
        (e: Error) => !mine.signal.aborted && setState((s) => ({ ...s, pending: false, error: e.message })),
      )
    }
    const later = () => {
      if (timer) clearTimeout(timer)
      timer = setTimeout(run, DEBOUNCE_MS)
    }
    run()
    doc.on('update', later)
    return () => {
      doc.off('update', later)
      if (timer) clearTimeout(timer)
      ctl?.abort()
    }
  }, [doc, problem, key, enabled])
  return state
}

export interface WhatIf {
  /** The figures to show: the what-if's once it has answered, else the room's. */
  shown: SimulationResult | null
  /** The room's shared result at peak. */
  room: SimulationResult | null
  scenario: ScenarioRequest
  setScenario: (s: ScenarioRequest) => void
  reset: () => void
  /** True while a what-if scenario (anything but plain peak) is selected. */
  active: boolean
  pending: boolean
  error: string | null
}

export function useWhatIf(doc: Y.Doc, problem: string | null, room: SimulationResult | null): WhatIf {
  const [scenario, setScenario] = useState<ScenarioRequest>(PEAK)
  const active = !isPlainPeak(scenario)
  const sim = useSimulated(doc, problem, scenario, active)
  const reset = useCallback(() => setScenario(PEAK), [])
  // A node failed in the what-if that has since been deleted from the design: drop it.
  useEffect(() => {
    if (!room || scenario.fail.every((id) => id in room.nodes)) return
    setScenario((s) => ({ ...s, fail: s.fail.filter((id) => id in room.nodes) }))
  }, [room, scenario.fail])
  const whatIfResult = active && sim.result && sameScenario(sim.result, scenario) ? sim.result : null
  return {
    shown: active ? (whatIfResult ?? room) : room,
    room,
    scenario,
    setScenario,
    reset,
    active,
    pending: active && (sim.pending || !whatIfResult),
    error: active ? sim.error : null,
  }
}

/** Whether a result answers this scenario (a stale answer to the previous one is not shown as it). */
function sameScenario(r: SimulationResult, s: ScenarioRequest): boolean {
  return r.scenario.load === s.load && r.scenario.cold_cache === s.cold_cache && r.scenario.fail.join('\n') === s.fail.join('\n')
}
