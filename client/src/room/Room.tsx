/**
 * A room: the canvas with its palette, the side panels (tiers, inspector, problem, notes), presence,
 * undo/redo of one's own edits, share links, status, export/import. Editing controls exist only
 * while one may edit: a view link gets the same room read-only, and so does a candidate while the host
 * has locked the canvas or someone else drives (issue 22). The host gets the host console, and every
 * participant of an interview the clock, the revealed hints and the curveball (./InterviewBar.tsx).
 */
import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react'
import { ReactFlowProvider } from '@xyflow/react'
import type * as Y from 'yjs'
import { getComponents, getProblem, getRoom, hostAction, type Problem, type RoomInfo } from '../api'
import { Brand, ThemeToggle, TopBar } from '../TopBar'
import { Catalog, EMPTY_CATALOG } from '../catalog'
import { fragmentOf, parseFragment, roleOf, tokenFor, type RoomTokens } from '../links'
import { editBlock, type EditBlock, type InterviewState } from '../interview'
import { HostConsole, useDesignNodes } from './HostConsole'
import { InterviewBar } from './InterviewBar'
import { loadName, saveName } from '../presence'
import { deleteElements, problemOf } from '../schema'
import { linkClick } from '../router'
import { Canvas } from './Canvas'
import { useRoomConnection, type RoomState } from './connection'
import { CatalogContext, RoomContext } from './context'
import { ExportMenu } from './ExportMenu'
import { Inspector } from './Inspector'
import { Palette } from './Palette'
import { PanelToggle, usePanelOpen } from './PanelToggle'
import './layout.css'
import { NameDialog, ParticipantList, useParticipants } from './Presence'
import { ProblemPanel } from './ProblemPanel'
import { AnswerPanel } from './AnswerPanel'
import { CapacityPanel, scenarioCaption } from './CapacityPanel'
import { canvasHeat, ruleMarks } from './heat'
import { useWhatIf } from './useSimulation'
import { Ghost } from './Ghost'
import { useReference } from './useReference'
import { hintFor } from '../learn/coaching'
import { recordProgress } from '../learn/progress'
import { useRememberRoom } from '../recentRooms'
import { hintList } from '../browser/common'
import { useSelection } from './selection'
import { ShareMenu } from './ShareMenu'
import { ShortcutsHelp } from './ShortcutsHelp'
import { Status } from './Status'
import { TierPanel, TierStrip, Timeline } from './TierPanel'
import { useHighlight } from './useHighlight'
import { useShortcuts } from './useShortcuts'
import { useClipboard } from './useClipboard'
import { AlignTools } from './AlignTools'
import { useFollowEditor } from './useFollowEditor'
import { useDeletedNotice } from './useDeletedNotice'
import { useUndoManager } from './useUndoManager'
import { useToast } from './useToast'
import { SectionsBadge } from './sections/SectionsBadge'

type Tab = 'host' | 'tiers' | 'capacity' | 'inspect' | 'problem' | 'answer' | 'sections' | 'notes'
const TABS: Tab[] = ['host', 'tiers', 'capacity', 'inspect', 'problem', 'answer', 'sections', 'notes']

/** Whether the interview strip is worth showing: always in an interview, in practice once the host used it. */
function interviewActive(s: InterviewState | null): boolean {
  if (!s) return false
  if (s.mode === 'interview') return true
  const c = s.clock
  const started = c.ends_at !== null || c.phase > 0 || (c.paused_remaining_ms ?? 0) !== Math.round((c.phases[0]?.minutes ?? 0) * 60_000)
  return started || s.locked || s.driver !== null || s.curveball !== null || s.revealed_hints.length > 0
}

const BLOCK_WORDS: Record<Exclude<EditBlock, null>, string> = {
  view: 'view only',
  locked: 'locked by the host',
  not_driver: 'someone else is driving',
}

// CodeMirror is most of the notes pad's weight: load it when the Notes tab is first opened.
const NotesPad = lazy(() => import('./NotesPad').then((m) => ({ default: m.NotesPad })))
// The sections (issue 23) edit with CodeMirror too: loaded with their tab.
const SectionsPanel = lazy(() => import('./sections/SectionsPanel').then((m) => ({ default: m.SectionsPanel })))

export function Room({ room }: { room: string }) {
  // Tokens are read once from the fragment; the fragment stays so that reload and bookmarks work.
  const [tokens, setTokens] = useState<RoomTokens>(() => parseFragment(location.hash))
  // A rotated link (the host re-issued it) replaces the old one in this page's own fragment.
  const onRotated = useCallback((next: RoomTokens) => {
    setTokens(next)
    history.replaceState(history.state, '', `#${fragmentOf(next)}`)
  }, [])
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
  const [renaming, setRenaming] = useState(false)
  const onRename = useCallback(() => setRenaming(true), [])
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
    getComponents(ctl.signal).then(
      (c) => setCatalog(new Catalog(c)),
      () => undefined,
    )
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
  const block = editBlock(role, state.interview, doc?.clientID ?? -1)
  const readOnly = block !== null
  const roomContext = useMemo(() => ({ doc, readOnly }), [doc, readOnly])

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
              readOnly={readOnly}
              block={block}
              role={role}
              mode={state.mode ?? info?.mode ?? null}
              tokens={tokens}
              onRotated={onRotated}
              name={name ?? ''}
              onRename={onRename}
              problem={problem}
              catalog={catalog}
              dismissNotice={dismissNotice}
            />
          </RoomContext.Provider>
        ) : (
          <p className="muted pad">Opening the room…</p>
        )}
        {!name && <NameDialog onName={(n) => setName(saveName(n))} />}
        {renaming && name && (
          <NameDialog
            initial={name}
            onName={(n) => {
              setName(saveName(n))
              setRenaming(false)
            }}
            onCancel={() => setRenaming(false)}
          />
        )}
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

function RoomView(props: {
  room: string
  doc: Y.Doc
  awareness: import('y-protocols/awareness').Awareness
  state: RoomState
  readOnly: boolean
  block: EditBlock
  role: import('../protocol').Role | null
  mode: import('../protocol').Mode | null
  tokens: RoomTokens
  onRotated: (t: RoomTokens) => void
  name: string
  onRename: () => void
  problem: Problem | null
  catalog: Catalog
  dismissNotice: () => void
}) {
  const { doc, awareness, state, readOnly, problem, catalog, mode } = props
  const token = tokenFor(props.tokens)
  const isHost = props.role === 'host'
  const interview = state.interview
  // Nothing picked yet: the host of an interview starts on the console, everyone else on the tiers.
  const [tab, setTab] = useState<Tab | null>(null)
  // The answer is the host's until revealed, in an interview; in practice it is everyone's.
  const answerAllowed = isHost || mode === 'practice' || interview?.solution_revealed === true
  const tabs = TABS.filter((t) => (t === 'host' ? isHost : t === 'answer' ? answerAllowed : true))
  const wanted: Tab = tab ?? (isHost && mode === 'interview' ? 'host' : 'tiers')
  const shownTab: Tab = tabs.includes(wanted) ? wanted : 'tiers'
  const { selection, onSelection, duplicate } = useSelection(doc, readOnly)
  const [highlight, onHighlight] = useHighlight()
  const [follow, setFollow] = useState<number | null>(null)
  const [snap, setSnap] = useState(true)
  const [help, setHelp] = useState(false)
  const [panelOpen, togglePanel, showPanel] = usePanelOpen()
  // The problem statement opens beside the canvas (or in a new tab), never instead of the room.
  const showProblem = useCallback(() => {
    setTab('problem')
    showPanel()
  }, [showPanel])
  // The inspector opens when asked (its tab or the selection bar's button),
  // never by selecting: the tiers stay in view while one builds (issue 24, item 4).
  const inspect = useCallback(() => {
    setTab('inspect')
    showPanel()
  }, [showPanel])
  // The interview's phase points at its sections (issue 23): highlighted in the tab, a link in the bar.
  const phase = interview && interviewActive(interview) ? (interview.clock.phases[interview.clock.phase]?.name ?? null) : null
  const openSections = useCallback(() => {
    setTab('sections')
    showPanel()
  }, [showPanel])
  const { notice, show: setToast } = useToast(state.notice, props.dismissNotice)
  // The host's verdicts on the API checklist (issue 23 item 2): a host action, stored and live.
  const hostToken = props.tokens.host ?? null
  const hostName = props.name
  const onVerdict = useCallback(
    (requirement: string, covered: boolean | null) => {
      if (!hostToken) return
      hostAction(props.room, hostToken, { action: 'api_override', requirement, covered, by: hostName || undefined }).catch((e: unknown) =>
        setToast(`The verdict was not taken: ${e instanceof Error ? e.message : String(e)}`),
      )
    },
    [props.room, hostToken, hostName, setToast],
  )
  const people = useParticipants(awareness)
  const { undo, stack } = useUndoManager(doc)
  useShortcuts(doc, { readOnly, undo, duplicate, setHelp })
  useClipboard(doc, readOnly, selection.nodes, setToast)
  useDeletedNotice(doc, selection.nodes, setToast)

  const whatIf = useWhatIf(doc, problem?.id ?? state.problem, state.simulation)
  const heat = useMemo(() => canvasHeat(whatIf.shown), [whatIf.shown])
  const failing = useMemo(() => ruleMarks(state.validation), [state.validation])
  const heatCaption = scenarioCaption(whatIf.shown)
  const onSimHighlight = useCallback((nodes: string[]) => onHighlight('simulation', nodes), [onHighlight])
  const onStopFollow = useCallback(() => setFollow(null), [])
  useFollowEditor(readOnly, people, follow, setFollow)
  const reference = useReference(props.room, token, answerAllowed)
  const refDesign = reference.ghost ? reference.solution?.reference_solution : null
  const overlay = useMemo(() => (refDesign ? <Ghost reference={refDesign} catalog={catalog} /> : null), [refDesign, catalog])
  const [focusHint, setFocusHint] = useState<{ index: number; seq: number } | null>(null)
  const onHint = useCallback((index: number) => {
    setTab('problem')
    setFocusHint((f) => ({ index, seq: (f?.seq ?? 0) + 1 }))
  }, [])
  const coach = useMemo(() => {
    // In an interview, hints come from the host, one at a time: the tiers do not point at them.
    if (!problem || mode === 'interview') return undefined
    const hints = hintList(problem.hints)
    return (tier: number, rule: number) => {
      const r = problem.tiers[tier]?.rules[rule]
      // a path rule is coached by its first type; a latency or whole-design capacity rule by none
      return r ? hintFor({ type: r.type || r.types?.[0] || '' }, problem.tiers[tier].id, hints, catalog) : null
    }
  }, [problem, catalog, mode])
  // The host picks a node to fail; everyone reads the failed node's name in the banner.
  const designNodes = useDesignNodes(doc, isHost || (interview?.curveball?.fail.length ?? 0) > 0)
  const nodeLabel = useCallback((id: string) => designNodes.find((n) => n.id === id)?.label ?? id, [designNodes])
  const peakRps = problem?.targets?.peak_rate_per_sec ?? null
  // The best tier reached here counts as this browser's progress on the problem.
  const reached = state.validation?.reached ?? 0
  const tierTotal = state.validation?.tiers.length ?? 0
  useEffect(() => {
    if (problem && tierTotal > 0) recordProgress(problem.id, { title: problem.title, bestTier: reached, tiers: tierTotal })
  }, [problem, reached, tierTotal])
  // …and the room itself joins this browser's "your rooms" on the landing page.
  useRememberRoom(props.room, props.tokens, problem, reached, tierTotal)

  return (
    <div className={`room ${readOnly ? 'read-only' : 'editable'}`}>
      <header className="topbar room-bar">
        <Brand />
        <div className="room-title">
          {problem ? (
            <>
              <button type="button" className="link room-title-open" onClick={showProblem} title="Show the problem beside the canvas">
                {problem.title}
              </button>
              <a
                className="room-title-tab"
                href={`/problems/${encodeURIComponent(problem.id)}`}
                target="_blank"
                rel="noopener"
                aria-label="Open the problem page in a new tab"
                title="Open the problem page in a new tab"
              >
                ↗
              </a>
            </>
          ) : (
            'Room'
          )}
          {isHost && (
            <span className="chip small role-host" data-testid="host-chip">
              host
            </span>
          )}
          {props.block && (
            <span className={`chip small ${props.block !== 'view' ? 'warn' : ''}`} data-testid="read-only" data-reason={props.block}>
              {BLOCK_WORDS[props.block]}
            </span>
          )}
        </div>
        <Status state={state} readOnly={readOnly} />
        <div className="spacer" />
        <ParticipantList
          people={people}
          follow={follow}
          onFollow={setFollow}
          onRename={props.onRename}
          mode={mode}
          driver={interview?.driver ?? null}
        />
        {!readOnly && (
          <div className="btn-group" role="group" aria-label="History">
            <button
              type="button"
              className="icon-btn"
              onClick={() => undo?.undo()}
              disabled={stack.undo === 0}
              aria-label="Undo"
              title="Undo (Ctrl+Z)"
            >
              ↶
            </button>
            <button
              type="button"
              className="icon-btn"
              onClick={() => undo?.redo()}
              disabled={stack.redo === 0}
              aria-label="Redo"
              title="Redo (Ctrl+Shift+Z)"
            >
              ↷
            </button>
          </div>
        )}
        {!readOnly && (
          <label className="toggle" title="Snap to grid">
            <input type="checkbox" checked={snap} onChange={(e) => setSnap(e.target.checked)} /> Snap
          </label>
        )}
        <ShareMenu room={props.room} tokens={props.tokens} mode={mode} onCopied={setToast} onRotated={props.onRotated} />
        <ExportMenu doc={doc} readOnly={readOnly} base={`tierboard-${problem?.id ?? 'design'}`} onNotice={setToast} />
        <button
          type="button"
          className="icon-btn"
          onClick={() => setHelp((h) => !h)}
          aria-label="Keyboard shortcuts"
          title="Keyboard shortcuts (?)"
        >
          ⌨
        </button>
        <ThemeToggle />
      </header>
      {interview && interviewActive(interview) && (
        <InterviewBar
          state={interview}
          offset={state.offset}
          block={props.block}
          isHost={isHost}
          people={people}
          peakRps={peakRps}
          nodeLabel={nodeLabel}
          onSections={openSections}
        />
      )}
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
          overlay={overlay}
          heat={heat}
          heatCaption={heatCaption}
          failing={failing}
        />
        <aside className={`sidebar ${panelOpen ? 'open' : 'closed'}`} aria-label="Room panels">
          <PanelToggle open={panelOpen} onToggle={togglePanel} controls="room-panels" />
          <div className="tabs" role="tablist" id="room-panels" hidden={!panelOpen}>
            {tabs.map((t) => (
              <button
                key={t}
                type="button"
                role="tab"
                aria-selected={shownTab === t}
                className={shownTab === t ? 'on' : ''}
                onClick={() => setTab(t)}
                id={`tab-${t}`}
              >
                {t === 'host' ? 'Host' : t[0].toUpperCase() + t.slice(1)}
                {t === 'tiers' && state.validation && (
                  <span className={`badge ${state.validation.reached === state.validation.tiers.length ? 'ok' : ''}`}>
                    {state.validation.reached}/{state.validation.tiers.length}
                  </span>
                )}
                {t === 'capacity' && state.simulation && state.simulation.scenario.offered_rps > 0 && (
                  <span
                    className={`badge ${state.simulation.checks.every((c) => c.status !== 'fail') ? 'ok' : ''}`}
                    data-testid="capacity-badge"
                  >
                    {state.simulation.checks.filter((c) => c.status === 'pass').length}/
                    {state.simulation.checks.filter((c) => c.status !== 'info').length}
                  </span>
                )}
                {t === 'sections' && <SectionsBadge checks={state.sectionChecks} />}
              </button>
            ))}
          </div>
          {shownTab !== 'tiers' && panelOpen && state.validation && (
            <TierStrip result={state.validation} stale={state.status !== 'connected'} onOpen={() => setTab('tiers')} />
          )}
          <div className="tab-body" role="tabpanel" aria-labelledby={`tab-${shownTab}`} hidden={!panelOpen}>
            {shownTab === 'host' && interview && (
              <HostConsole
                room={props.room}
                token={props.tokens.host ?? null}
                state={interview}
                host={state.hostView}
                offset={state.offset}
                people={people}
                doc={doc}
                catalog={catalog}
                reference={reference}
                peakRps={peakRps}
                nodes={designNodes}
              />
            )}
            {shownTab === 'host' && !interview && <p className="muted">Waiting for the room’s interview state…</p>}
            {shownTab === 'tiers' && (
              <>
                {state.validation && state.status !== 'connected' && (
                  <p className="stale-note" data-testid="tiers-stale">
                    Offline: these are the server’s last results. Changes since then are checked once you reconnect.
                  </p>
                )}
                <TierPanel
                  result={state.validation}
                  connected={state.status === 'connected'}
                  active={highlight.key}
                  onHighlight={onHighlight}
                  hintFor={coach}
                  onHint={onHint}
                />
                {token && (
                  <Timeline
                    room={props.room}
                    token={token}
                    reached={state.validation?.reached ?? null}
                    connected={state.status === 'connected'}
                  />
                )}
              </>
            )}
            {shownTab === 'capacity' && <CapacityPanel whatIf={whatIf} onHighlight={onSimHighlight} />}
            {shownTab === 'inspect' && (
              <Inspector doc={doc} catalog={catalog} nodes={selection.nodes} edges={selection.edges} readOnly={readOnly} />
            )}
            {shownTab === 'problem' && (
              <ProblemPanel
                problem={problem}
                catalog={catalog}
                doc={doc}
                readOnly={readOnly}
                name={props.name}
                focusHint={focusHint}
                interview={mode === 'interview' ? { revealed: interview?.revealed_hints ?? [], isHost } : null}
              />
            )}
            {shownTab === 'answer' && (
              <AnswerPanel
                doc={doc}
                catalog={catalog}
                reference={reference}
                problem={problem?.id ?? state.problem}
                simulation={state.simulation}
              />
            )}
            {shownTab === 'sections' && (
              <Suspense fallback={<p className="muted">Loading the sections…</p>}>
                <SectionsPanel
                  doc={doc}
                  awareness={awareness}
                  readOnly={readOnly}
                  checks={state.sectionChecks}
                  phase={phase}
                  onVerdict={isHost && hostToken ? onVerdict : undefined}
                />
              </Suspense>
            )}
            {shownTab === 'notes' && (
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
      {help && <ShortcutsHelp onClose={() => setHelp(false)} readOnly={readOnly} />}
      {!readOnly && selection.nodes.length > 0 && (
        <div className="selection-bar" role="toolbar" aria-label="Selection">
          <span>{selection.nodes.length} selected</span>
          <button
            type="button"
            onClick={inspect}
            aria-pressed={panelOpen && tab === 'inspect'}
            title="Show the selection in the Inspect tab"
          >
            Inspect
          </button>
          <AlignTools doc={doc} selected={selection.nodes} />
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
