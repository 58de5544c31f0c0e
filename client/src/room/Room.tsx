/**
 * A room: the canvas with its palette, the side panels (tiers, inspector, problem, notes), presence,
 * undo/redo of one's own edits, share links, status, export/import. Editing controls exist only
 * for the edit role; a view link gets the same room read-only.
 */
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { ReactFlowProvider, useReactFlow, useStoreApi } from '@xyflow/react'
import type * as Y from 'yjs'
import { getComponents, getProblem, getRoom, type Problem, type RoomInfo } from '../api'
import { Brand, ThemeToggle, TopBar } from '../TopBar'
import { Catalog, EMPTY_CATALOG } from '../catalog'
import { observeDesign } from '../flow'
import { editLink, parseFragment, roleOf, tokenFor, viewLink, type RoomTokens } from '../links'
import { loadName, saveName } from '../presence'
import { canvasUndoManager, deleteElements, duplicateNodes, isEmpty, problemOf, root } from '../schema'
import { linkClick } from '../router'
import { Canvas } from './Canvas'
import { useRoomConnection, type RoomState } from './connection'
import { CatalogContext, RoomContext } from './context'
import { exportImage, exportJson, importFile } from './exporting'
import { Inspector } from './Inspector'
import { Menu } from './Menu'
import { Palette } from './Palette'
import { NameDialog, ParticipantList, useParticipants } from './Presence'
import { ProblemPanel } from './ProblemPanel'
import { TierPanel, Timeline } from './TierPanel'

type Tab = 'tiers' | 'inspect' | 'problem' | 'notes'

// CodeMirror is most of the notes pad's weight: load it when the Notes tab is first opened.
const NotesPad = lazy(() => import('./NotesPad').then((m) => ({ default: m.NotesPad })))

export function Room({ room }: { room: string }) {
  // Tokens are read once from the fragment; the fragment stays so that reload and bookmarks work.
  const [tokens] = useState<RoomTokens>(() => parseFragment(location.hash))
  const token = tokenFor(tokens)
  // Pasting another link of the same room only changes the fragment: start over with its tokens.
  useEffect(() => {
    const onHash = () => {
      if (tokenFor(parseFragment(location.hash)) !== token) location.reload()
    }
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [token])
  const [name, setName] = useState<string | null>(() => loadName())
  const { conn, state, dismissNotice } = useRoomConnection(room, token, name)
  const [info, setInfo] = useState<RoomInfo | null>(null)
  const [infoError, setInfoError] = useState<string | null>(null)
  const [problem, setProblem] = useState<Problem | null>(null)
  const [catalog, setCatalog] = useState<Catalog>(EMPTY_CATALOG)

  useEffect(() => {
    if (!token) return
    const ctl = new AbortController()
    getRoom(room, token, ctl.signal).then(setInfo, (e: Error & { status?: number }) => {
      // Unreachable server: the room still opens from the local copy (offline).
      if (!ctl.signal.aborted && e.status && e.status !== 0) setInfoError(e.message)
    })
    getComponents(ctl.signal).then((c) => setCatalog(new Catalog(c)), () => undefined)
    return () => ctl.abort()
  }, [room, token])

  const problemId = state.problem ?? info?.problem ?? (conn ? problemOf(conn.doc) : null)
  useEffect(() => {
    if (!problemId) return
    const ctl = new AbortController()
    getProblem(problemId, ctl.signal).then(setProblem, () => undefined)
    return () => ctl.abort()
  }, [problemId])

  useEffect(() => {
    document.title = problem ? `${problem.title} · room · tierboard` : 'room · tierboard'
  }, [problem])

  const role = state.role ?? info?.role ?? roleOf(tokens)
  const doc = conn?.doc ?? null
  const roomContext = useMemo(() => ({ doc, readOnly: role !== 'edit' }), [doc, role])

  if (!token) {
    return <Fatal message="This link has no access token. Ask for the room's edit or view link." />
  }
  const fatal = state.fatal ?? infoError
  if (fatal) return <Fatal message={`Cannot open this room: ${fatal}.`} />

  return (
    <CatalogContext.Provider value={catalog}>
      <ReactFlowProvider>
        {conn ? (
          <RoomContext.Provider value={roomContext}>
            <RoomView
              room={room}
              doc={conn.doc}
              awareness={conn.awareness}
              state={state}
              readOnly={role !== 'edit'}
              tokens={tokens}
              problem={problem}
              catalog={catalog}
              dismissNotice={dismissNotice}
            />
          </RoomContext.Provider>
        ) : (
          <p className="muted pad">Opening the room…</p>
        )}
        {!name && <NameDialog onName={(n) => setName(saveName(n))} />}
      </ReactFlowProvider>
    </CatalogContext.Provider>
  )
}

function Fatal({ message }: { message: string }) {
  return (
    <div className="page">
      <TopBar />
      <main className="content narrow">
        <p className="error-box" role="alert">
          {message}
        </p>
        <p>
          <a href="/" onClick={linkClick('/')}>
            Browse the problems
          </a>{' '}
          to start a new room.
        </p>
      </main>
    </div>
  )
}

/**
 * Selects `ids` as soon as React Flow holds them. New nodes reach its store only after the Yjs
 * observer's state update has rendered, which on a busy machine can take several frames: selecting
 * them on a timer could find nothing and leave the selection empty (a Delete right after Ctrl+D then
 * removed nothing). Gives up after 5 s, e.g. if someone deleted the copies first.
 */
function selectWhenShown(store: ReturnType<typeof useStoreApi>, ids: string[]): void {
  if (ids.length === 0) return
  let done = false
  const finish = () => {
    done = true
    unsubscribe()
    clearTimeout(timer)
  }
  const tryNow = () => {
    if (done) return
    const s = store.getState()
    if (!ids.every((id) => s.nodeLookup.has(id))) return
    finish()
    s.addSelectedNodes(ids)
  }
  const unsubscribe = store.subscribe(tryNow)
  const timer = setTimeout(finish, 5000)
  tryNow()
}

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null
  if (!el) return false
  return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable
}

/** Whether the design is empty, kept current (import is offered only into an empty room). */
function useEmpty(doc: Y.Doc): boolean {
  const [empty, setEmpty] = useState(() => isEmpty(doc))
  useEffect(() => {
    setEmpty(isEmpty(doc))
    return observeDesign(doc, () => setEmpty(isEmpty(doc)))
  }, [doc])
  return empty
}

function RoomView(props: {
  room: string
  doc: Y.Doc
  awareness: import('y-protocols/awareness').Awareness
  state: RoomState
  readOnly: boolean
  tokens: RoomTokens
  problem: Problem | null
  catalog: Catalog
  dismissNotice: () => void
}) {
  const { doc, awareness, state, readOnly, problem, catalog } = props
  const token = tokenFor(props.tokens)
  const rf = useReactFlow()
  const store = useStoreApi()
  const [tab, setTab] = useState<Tab>('tiers')
  const [selection, setSelection] = useState<{ nodes: string[]; edges: string[] }>({ nodes: [], edges: [] })
  const [highlight, setHighlight] = useState<{ key: string | null; nodes: ReadonlySet<string> }>({ key: null, nodes: new Set() })
  const [follow, setFollow] = useState<number | null>(null)
  const [snap, setSnap] = useState(true)
  const [toast, setToast] = useState<string | null>(null)
  const people = useParticipants(awareness)
  const empty = useEmpty(doc)

  // Created in the effect (not in a memo) so that StrictMode's mount-unmount-mount in development
  // does not leave a destroyed manager behind.
  const [undo, setUndo] = useState<Y.UndoManager | null>(null)
  const [stack, setStack] = useState({ undo: 0, redo: 0 })
  useEffect(() => {
    const um = canvasUndoManager(doc)
    const update = () => setStack({ undo: um.undoStack.length, redo: um.redoStack.length })
    um.on('stack-item-added', update)
    um.on('stack-item-popped', update)
    um.on('stack-cleared', update)
    setUndo(um)
    return () => {
      um.destroy()
      setUndo(null)
    }
  }, [doc])

  const onSelection = useCallback((nodes: string[], edges: string[]) => {
    setSelection((prev) => {
      if (prev.nodes.length + prev.edges.length === 0 && nodes.length + edges.length > 0) setTab('inspect')
      return { nodes, edges }
    })
  }, [])

  const onHighlight = useCallback((key: string | null, nodes: string[]) => {
    setHighlight({ key, nodes: new Set(nodes) })
    if (nodes.length) {
      const targets = nodes.map((id) => rf.getNode(id)).filter((n) => n !== undefined)
      if (targets.length) void rf.fitView({ nodes: targets, duration: 300, maxZoom: 1.2, padding: 0.4 })
    }
  }, [rf])

  const onStopFollow = useCallback(() => setFollow(null), [])

  const duplicate = useCallback(() => {
    if (readOnly || selection.nodes.length === 0) return
    const ids = duplicateNodes(doc, selection.nodes)
    store.getState().unselectNodesAndEdges()
    selectWhenShown(store, ids)
  }, [doc, readOnly, selection.nodes, store])

  // Keyboard shortcuts (not while typing in a field or the notes).
  const [help, setHelp] = useState(false)
  const keys = useRef({ duplicate, undo, readOnly })
  keys.current = { duplicate, undo, readOnly }
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return
      const mod = e.ctrlKey || e.metaKey
      const k = e.key.toLowerCase()
      const { readOnly: ro, undo: um, duplicate: dup } = keys.current
      if (mod && k === 'z' && !ro) {
        e.preventDefault()
        if (e.shiftKey) um?.redo()
        else um?.undo()
      } else if (mod && k === 'y' && !ro) {
        e.preventDefault()
        um?.redo()
      } else if (mod && k === 'd' && !ro) {
        e.preventDefault()
        dup()
      } else if (mod && k === 'a') {
        e.preventDefault()
        store.getState().addSelectedNodes([...root(doc).nodes.keys()])
      } else if (!mod && k === 'f') {
        void rf.fitView({ duration: 300, padding: 0.2, maxZoom: 1.2 })
      } else if (k === 'escape') {
        store.getState().unselectNodesAndEdges()
        setHelp(false)
      } else if (k === '?') {
        setHelp((h) => !h)
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [doc, rf, store])

  const fileInput = useRef<HTMLInputElement>(null)
  const base = `tierboard-${problem?.id ?? 'design'}`
  const notice = state.notice ?? toast

  const { dismissNotice } = props
  useEffect(() => {
    if (!notice) return
    const t = setTimeout(() => {
      setToast(null)
      dismissNotice()
    }, 4000)
    return () => clearTimeout(t)
  }, [notice, dismissNotice])

  return (
    <div className={`room ${readOnly ? 'read-only' : 'editable'}`}>
      <header className="topbar room-bar">
        <Brand />
        <div className="room-title">
          {problem ? (
            <a href={`/problems/${encodeURIComponent(problem.id)}`} onClick={linkClick(`/problems/${encodeURIComponent(problem.id)}`)}>
              {problem.title}
            </a>
          ) : (
            'Room'
          )}
          {readOnly && <span className="chip small" data-testid="read-only">view only</span>}
        </div>
        <Status state={state} readOnly={readOnly} />
        <div className="spacer" />
        <ParticipantList people={people} follow={follow} onFollow={setFollow} />
        {!readOnly && (
          <div className="btn-group" role="group" aria-label="History">
            <button type="button" className="icon-btn" onClick={() => undo?.undo()} disabled={stack.undo === 0} aria-label="Undo" title="Undo (Ctrl+Z)">
              ↶
            </button>
            <button type="button" className="icon-btn" onClick={() => undo?.redo()} disabled={stack.redo === 0} aria-label="Redo" title="Redo (Ctrl+Shift+Z)">
              ↷
            </button>
          </div>
        )}
        <label className="toggle" title="Snap to grid">
          <input type="checkbox" checked={snap} onChange={(e) => setSnap(e.target.checked)} /> Snap
        </label>
        <ShareMenu room={props.room} tokens={props.tokens} onCopied={setToast} />
        <Menu label="Export" ariaLabel="Export or import" closeOnClick>
            <button type="button" onClick={() => exportJson(doc, base)}>
              Design JSON
            </button>
            <button type="button" onClick={() => void exportImage('png', rf.getNodes(), base).catch((e: Error) => setToast(`PNG export failed: ${e.message}`))}>
              PNG image
            </button>
            <button type="button" onClick={() => void exportImage('svg', rf.getNodes(), base).catch((e: Error) => setToast(`SVG export failed: ${e.message}`))}>
              SVG image
            </button>
            {!readOnly && (
              <>
                <hr />
                <button type="button" disabled={!empty} onClick={() => fileInput.current?.click()} title={empty ? 'Load a design JSON' : 'Import needs an empty room'}>
                  Import design JSON…
                </button>
                <input
                  ref={fileInput}
                  type="file"
                  accept="application/json,.json"
                  hidden
                  aria-label="Design JSON file"
                  onChange={(e) => {
                    const f = e.target.files?.[0]
                    e.target.value = ''
                    if (!f) return
                    importFile(doc, f).then(
                      (n) => {
                        setToast(`Imported ${n} components`)
                        setTimeout(() => void rf.fitView({ duration: 300, padding: 0.2 }), 50)
                      },
                      (err: Error) => setToast(`Import failed: ${err.message}`),
                    )
                  }}
                />
              </>
            )}
        </Menu>
        <button type="button" className="icon-btn" onClick={() => setHelp((h) => !h)} aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)">
          ⌨
        </button>
        <ThemeToggle />
      </header>
      <div className="room-body">
        {!readOnly && <Palette doc={doc} types={problem?.available_components ?? []} catalog={catalog} />}
        <Canvas
          doc={doc}
          awareness={awareness}
          catalog={catalog}
          readOnly={readOnly}
          snap={snap}
          highlight={highlight.nodes}
          follow={follow}
          onStopFollow={onStopFollow}
          onSelection={onSelection}
        />
        <aside className="sidebar" aria-label="Room panels">
          <div className="tabs" role="tablist">
            {(['tiers', 'inspect', 'problem', 'notes'] as Tab[]).map((t) => (
              <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? 'on' : ''} onClick={() => setTab(t)} id={`tab-${t}`}>
                {t[0].toUpperCase() + t.slice(1)}
                {t === 'tiers' && state.validation && (
                  <span className={`badge ${state.validation.reached === state.validation.tiers.length ? 'ok' : ''}`}>
                    {state.validation.reached}/{state.validation.tiers.length}
                  </span>
                )}
              </button>
            ))}
          </div>
          <div className="tab-body" role="tabpanel" aria-labelledby={`tab-${tab}`}>
            {tab === 'tiers' && (
              <>
                <TierPanel result={state.validation} connected={state.status === 'connected'} active={highlight.key} onHighlight={onHighlight} />
                {token && <Timeline room={props.room} token={token} reached={state.validation?.reached ?? null} connected={state.status === 'connected'} />}
              </>
            )}
            {tab === 'inspect' && <Inspector doc={doc} catalog={catalog} nodes={selection.nodes} edges={selection.edges} readOnly={readOnly} />}
            {tab === 'problem' && <ProblemPanel problem={problem} />}
            {tab === 'notes' && (
              <Suspense fallback={<p className="muted">Loading the notes…</p>}>
                <NotesPad doc={doc} awareness={awareness} readOnly={readOnly} />
              </Suspense>
            )}
          </div>
          {follow !== null && (
            <div className="following-bar">
              Following {people.find((p) => p.clientID === follow)?.user.name ?? 'someone'}{' '}
              <button type="button" onClick={() => setFollow(null)}>
                Stop
              </button>
            </div>
          )}
        </aside>
      </div>
      {help && <Shortcuts onClose={() => setHelp(false)} readOnly={readOnly} />}
      {!readOnly && selection.nodes.length > 0 && (
        <div className="selection-bar" role="toolbar" aria-label="Selection">
          <span>{selection.nodes.length} selected</span>
          <button type="button" onClick={duplicate}>
            Duplicate
          </button>
          <button type="button" className="danger" onClick={() => deleteElements(doc, selection.nodes, selection.edges)}>
            Delete
          </button>
        </div>
      )}
      {notice && (
        <div className="toast" role="status">
          {notice}
        </div>
      )}
    </div>
  )
}

function Status({ state, readOnly }: { state: RoomState; readOnly: boolean }) {
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

function ShareMenu({ room, tokens, onCopied }: { room: string; tokens: RoomTokens; onCopied: (m: string) => void }) {
  const edit = editLink(location.origin, room, tokens)
  const view = viewLink(location.origin, room, tokens)
  const copy = (text: string, what: string) => {
    const fallback = () => onCopied(`Select the ${what.toLowerCase()} in the box and copy it`)
    if (!navigator.clipboard) return fallback()
    navigator.clipboard.writeText(text).then(() => onCopied(`${what} copied`), fallback)
  }
  return (
    <Menu label="Share" ariaLabel="Share this room" className="share" wide>
        {edit && (
          <label className="field">
            <span>Edit link: anyone with it can change the design</span>
            <div className="row">
              <input readOnly value={edit} aria-label="Edit link" onFocus={(e) => e.target.select()} />
              <button type="button" onClick={() => copy(edit, 'Edit link')}>
                Copy
              </button>
            </div>
          </label>
        )}
        {view && (
          <label className="field">
            <span>View link: read-only</span>
            <div className="row">
              <input readOnly value={view} aria-label="View link" onFocus={(e) => e.target.select()} />
              <button type="button" onClick={() => copy(view, 'View link')}>
                Copy
              </button>
            </div>
          </label>
        )}
    </Menu>
  )
}

function Shortcuts({ onClose, readOnly }: { onClose: () => void; readOnly: boolean }) {
  const rows: [string, string][] = [
    ['F', 'fit the design in view'],
    ['Shift + drag', 'select an area'],
    ['Shift/Ctrl + click', 'add to the selection'],
    ['Ctrl + A', 'select all'],
    ['Esc', 'clear the selection'],
  ]
  if (!readOnly) {
    rows.push(['Delete / Backspace', 'delete the selection'], ['Ctrl + D', 'duplicate the selection'], ['Ctrl + Z', 'undo your last change'], ['Ctrl + Shift + Z / Ctrl + Y', 'redo'])
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
