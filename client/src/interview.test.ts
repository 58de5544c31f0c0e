import { describe, expect, it } from 'vitest'
import {
  DEFAULT_PHASES,
  clockView,
  curveballText,
  editBlock,
  formatClock,
  parseInterviewState,
  phaseLabel,
  type InterviewState,
} from './interview'
import { parseServerMessage } from './protocol'
import { fragmentOf, hostLink, parseFragment, roleOf, tokenFor } from './links'
import { roleLabel } from './presence'

const T0 = 1_800_000_000_000
const MIN = 60_000

// The `interview` message as docs/PROTOCOL.md §7 shows it.
const WIRE = {
  mode: 'interview',
  locked: false,
  driver: null,
  clock: { phase: 0, phases: DEFAULT_PHASES, ends_at: null, paused_remaining_ms: 5 * MIN },
  revealed_hints: [{ index: 1, text: 'shard by user' }],
  solution_revealed: false,
  curveball: null,
  api_overrides: { 'Publish new posts': { covered: true, by: 'Ada', at: T0 } },
}

const state = (over: Partial<InterviewState> = {}): InterviewState => ({ ...parseInterviewState(WIRE)!, ...over })

describe('interview messages', () => {
  it('parses the interview and host messages of §7', () => {
    const m = parseServerMessage(JSON.stringify({ type: 'interview', state: WIRE, now: T0 }))
    expect(m).toEqual({ type: 'interview', state: { ...WIRE, curveball: null }, now: T0 })
    const h = parseServerMessage(JSON.stringify({ type: 'host', state: WIRE, hints: ['a', 'b'], notes: 'n', now: T0 }))
    expect(h).toMatchObject({ type: 'host', hints: ['a', 'b'], notes: 'n', now: T0 })
    const cb = parseInterviewState({ ...WIRE, curveball: { load: 3, cold_cache: true } })
    expect(cb?.curveball).toEqual({ load: 3, fail: [], cold_cache: true })
    expect(parseServerMessage('{"type":"interview","state":{"mode":"interview"}}')).toBeNull()
    // The host's API verdicts: malformed ones are dropped, a missing map is empty.
    const o = parseInterviewState({ ...WIRE, api_overrides: { a: { covered: false, by: 'Bo', at: 1 }, b: { covered: 'yes' } } })
    expect(o?.api_overrides).toEqual({ a: { covered: false, by: 'Bo', at: 1 } })
    expect(parseInterviewState({ ...WIRE, api_overrides: undefined })?.api_overrides).toEqual({})
  })
})

describe('the shared clock', () => {
  it('counts down to the server’s ends_at whatever the local clock says', () => {
    const running = state({ clock: { ...WIRE.clock, ends_at: T0 + 3 * MIN, paused_remaining_ms: null } })
    // The local clock is 10 s behind the server's: the offset makes both read the same.
    const v = clockView(running.clock, 10_000, T0 - 10_000)
    expect(v.running).toBe(true)
    expect(v.remainingMs).toBe(3 * MIN)
    expect(formatClock(v.remainingMs)).toBe('3:00')
    expect(clockView(running.clock, 0, T0 + 3 * MIN + 42_000)).toMatchObject({ overtime: true })
    expect(formatClock(-42_000)).toBe('+0:42')
  })

  it('shows a paused or unstarted clock from paused_remaining_ms', () => {
    expect(clockView(state().clock, 0, T0)).toMatchObject({ running: false, notStarted: true, remainingMs: 5 * MIN, number: 1, total: 5 })
    const paused = clockView({ ...WIRE.clock, phase: 4, paused_remaining_ms: 61_500 }, 0, T0)
    expect(paused).toMatchObject({ notStarted: false, last: true })
    expect(formatClock(paused.remainingMs)).toBe('1:02')
    expect(formatClock(3_723_000)).toBe('1:02:03')
  })

  it('names the phases', () => {
    expect(phaseLabel('api_and_data_model')).toBe('API and data model')
    expect(phaseLabel('high_level_design')).toBe('High level design')
    expect(phaseLabel('Wrap-up')).toBe('Wrap-up')
  })
})

describe('who may edit', () => {
  it('follows the lock and the driver; the host always may, a viewer never', () => {
    expect(editBlock('edit', state(), 7)).toBeNull()
    expect(editBlock('edit', state({ locked: true }), 7)).toBe('locked')
    expect(editBlock('host', state({ locked: true, driver: 3 }), 7)).toBeNull()
    expect(editBlock('edit', state({ driver: 3 }), 7)).toBe('not_driver')
    expect(editBlock('edit', state({ driver: 7 }), 7)).toBeNull()
    expect(editBlock('view', state(), 7)).toBe('view')
    expect(editBlock('edit', null, 7)).toBeNull()
  })
})

describe('roles and links', () => {
  it('reads and writes the host link', () => {
    const t = parseFragment('#host=H1&edit=E1&view=V1')
    expect(roleOf(t)).toBe('host')
    expect(tokenFor(t)).toBe('H1')
    expect(fragmentOf(t)).toBe('host=H1&edit=E1&view=V1')
    expect(hostLink('http://h', 'r1', { edit: 'E1' })).toBeNull()
    expect(roleLabel('host', 'interview')).toBe('Host')
    expect(roleLabel('edit', 'interview')).toBe('Candidate')
    expect(roleLabel('edit', 'practice')).toBe('Editor')
    expect(roleLabel('view', 'interview')).toBe('Observer')
  })

  it('describes a curveball', () => {
    const label = (id: string) => ({ cache: 'Cache' })[id] ?? id
    expect(curveballText({ load: 5, fail: ['cache'], cold_cache: false }, 10_000, label)).toBe(
      'Traffic at 5× peak (50,000 rps); Cache has failed',
    )
    expect(curveballText({ load: 'peak', fail: [], cold_cache: true }, null, label)).toBe('The caches are cold')
  })
})
