/**
 * One room's live connection: the Yjs document, the stock y-websocket provider (with the tierboard
 * type-100 handler), IndexedDB persistence for offline edits, and the status the UI shows, with the
 * room's interview state (PROTOCOL §7) and, for the host, what only the host may see.
 */
import { useCallback, useEffect, useState } from 'react'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { IndexeddbPersistence } from 'y-indexeddb'
import type { Awareness } from 'y-protocols/awareness'
import {
  SavedTracker,
  describeClose,
  isTerminalClose,
  registerTierboardHandler,
  wsServerUrl,
  type Mode,
  type Role,
  type ServerMessage,
  type ValidationResult,
} from '../protocol'
import type { SimulationResult } from '../simulation'
import { serverOffset, type HostView, type InterviewState } from '../interview'
import type { SectionChecks } from '../report/sections'
import { distinctColor, loadColor, readPresence } from '../presence'
import { markDeleteOnlyChanges } from '../schema'

export type LinkStatus = 'connecting' | 'connected' | 'offline'

export interface RoomConnection {
  doc: Y.Doc
  provider: WebsocketProvider
  awareness: Awareness
}

export interface RoomState {
  status: LinkStatus
  /** True once the server has stored every edit this tab made. */
  saved: boolean
  /** The role the server confirmed in its `session` message (null before it). */
  role: Role | null
  mode: Mode | null
  problem: string | null
  /** The room's interview state (clock, lock, driver, revealed hints, curveball); null before the first. */
  interview: InterviewState | null
  /** Every hint and the private notes: host connections only. */
  hostView: HostView | null
  /** Server time − local time, from the last `interview` / `host` message (ms). */
  offset: number
  validation: ValidationResult | null
  /** The room's shared simulation of the design at the problem's peak (the server's `simulation`). */
  simulation: SimulationResult | null
  /** The server's advisory checks of the sections (`section_checks`, issue 23). */
  sectionChecks: SectionChecks | null
  /** Set when the server closed for good (bad token, no such room): the provider stops retrying. */
  fatal: string | null
  /** The last non-fatal error message from the server, e.g. read_only. */
  notice: string | null
  /** True once the local IndexedDB copy has been loaded. */
  restored: boolean
}

const INITIAL: RoomState = {
  status: 'connecting',
  saved: true,
  role: null,
  mode: null,
  problem: null,
  interview: null,
  hostView: null,
  offset: 0,
  validation: null,
  simulation: null,
  sectionChecks: null,
  fatal: null,
  notice: null,
  restored: false,
}

/** What a refused edit (`locked`, `not_driver`) says; the tab then reloads the board from the server. */
export const REFUSED: Record<string, string> = {
  locked: 'Your last change was not applied: the host has locked the canvas. The board was reloaded from the room.',
  not_driver: 'Your last change was not applied: another participant is driving. The board was reloaded from the room.',
}

export function useRoomConnection(room: string, token: string | null, name: string | null) {
  const [conn, setConn] = useState<RoomConnection | null>(null)
  const [state, setState] = useState<RoomState>(INITIAL)
  // A refused edit leaves a gap in this tab's Yjs clock, so its later edits would never apply
  // (PROTOCOL §7): the board starts over from the server, with the reason kept across the restart.
  const [generation, setGeneration] = useState(0)
  const [refused, setRefused] = useState<string | null>(null)

  useEffect(() => {
    if (!token) return
    const doc = new Y.Doc()
    const idb = new IndexeddbPersistence(`tierboard:${room}`, doc)
    const provider = new WebsocketProvider(wsServerUrl(location), room, doc, {
      params: { token },
      // y-websocket's own cross-tab channel would bypass the server's role checks: keep it off.
      disableBc: true,
    })
    const tracker = new SavedTracker(doc)
    const unmark = markDeleteOnlyChanges(doc)
    // Only re-render when something actually changed ('saved' messages arrive after every commit).
    const patch = (p: Partial<RoomState>) =>
      setState((s) => ((Object.keys(p) as (keyof RoomState)[]).every((k) => s[k] === p[k]) ? s : { ...s, ...p }))
    setState(INITIAL)

    idb.whenSynced.then(() => patch({ restored: true, saved: tracker.saved() }))

    let role: Role | null = null
    let restarting = false
    const off = registerTierboardHandler(provider, (m: ServerMessage) => {
      switch (m.type) {
        case 'session':
          role = m.role
          patch({ role: m.role, mode: m.mode, problem: m.problem || null })
          break
        case 'interview':
          patch({ interview: m.state, offset: serverOffset(m.now, Date.now()) })
          break
        case 'host':
          setState((s) => ({
            ...s,
            interview: m.state,
            hostView: { hints: m.hints, notes: m.notes },
            offset: serverOffset(m.now, Date.now()),
          }))
          break
        case 'validation':
          patch({ validation: m.result })
          break
        case 'simulation':
          patch({ simulation: m.result })
          break
        case 'section_checks':
          patch({ sectionChecks: m.result })
          break
        case 'saved': {
          const s = tracker.onSaved(m.sv)
          if (s !== null) patch({ saved: s })
          break
        }
        case 'error':
          // A viewer's handshake (its sync step 2) is refused as read_only by design: nothing to tell.
          if (m.code === 'read_only' && role === 'view') break
          if (m.code === 'locked' || m.code === 'not_driver') {
            setRefused(REFUSED[m.code])
            if (!restarting) {
              restarting = true
              // Drop the local copy holding the refused change, then reconnect with a fresh document.
              provider.disconnect()
              void idb.clearData().finally(() => setGeneration((g) => g + 1))
            }
            break
          }
          patch({ notice: m.code === 'read_only' ? 'This is a view link: changes are not sent.' : m.message || m.code })
          break
      }
    })
    provider.on('status', ({ status }: { status: string }) => {
      patch({ status: status === 'connected' ? 'connected' : status === 'connecting' ? 'connecting' : 'offline' })
    })
    provider.on('connection-close', (ev: CloseEvent | null) => {
      // 4401 may mean a link the host revoked (issue 22): our words say so; the server's reason cannot tell.
      if (ev && isTerminalClose(ev.code))
        patch({ fatal: ev.code === 4401 ? describeClose(ev.code) : ev.reason || describeClose(ev.code), status: 'offline' })
    })
    const onUpdate = (_u: Uint8Array, origin: unknown) => {
      // Only this tab's own edits change whether its edits are saved.
      if (origin !== provider && origin !== idb) patch({ saved: tracker.saved() })
    }
    doc.on('update', onUpdate)

    // The browser knows it is offline before the socket times out: say so, and reconnect when back.
    const offline = () => {
      provider.disconnect()
      patch({ status: 'offline' })
    }
    const online = () => provider.connect()
    window.addEventListener('offline', offline)
    window.addEventListener('online', online)
    if (!navigator.onLine) offline()

    setConn({ doc, provider, awareness: provider.awareness })
    return () => {
      window.removeEventListener('offline', offline)
      window.removeEventListener('online', online)
      doc.off('update', onUpdate)
      unmark()
      off()
      provider.destroy()
      void idb.destroy()
      doc.destroy()
      setConn(null)
    }
  }, [room, token, generation])

  // The user part of the awareness state (with the role, so that others see who only views); the
  // canvas sets cursor, selection and viewport.
  const role = state.role
  useEffect(() => {
    if (!conn || !name) return
    const aw = conn.awareness
    const own = loadColor()
    const publish = () => {
      const taken = new Set<string>()
      aw.getStates().forEach((st, id) => {
        const p = id < aw.clientID ? readPresence(st) : null
        if (p) taken.add(p.user.color)
      })
      const user = { name, color: distinctColor(own, taken), ...(role ? { role } : {}) }
      const cur = aw.getLocalState()?.user as typeof user | undefined
      if (!cur || cur.name !== user.name || cur.color !== user.color || cur.role !== user.role) aw.setLocalStateField('user', user)
    }
    publish()
    // Someone with the same colour may join later: look again when presence changes.
    aw.on('change', publish)
    return () => aw.off('change', publish)
  }, [conn, name, role])

  const dismissNotice = useCallback(() => {
    setRefused(null)
    setState((s) => (s.notice === null ? s : { ...s, notice: null }))
  }, [])
  const shown = refused && !state.notice ? { ...state, notice: refused } : state
  return { conn, state: shown, dismissNotice }
}
