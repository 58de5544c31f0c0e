/**
 * The problem in full beside the canvas (issue 21 items 1-3): the same parts as the problem page in
 * their compact form, the tutorial, and the hints revealed for the whole room.
 */
import { useEffect, useRef } from 'react'
import type * as Y from 'yjs'
import type { Problem } from '../api'
import { hintList } from '../browser/common'
import type { Catalog } from '../catalog'
import { HintList } from '../learn/Hints'
import { ProblemFull } from '../learn/ProblemFull'
import { EstimateDrills, TutorialView } from '../learn/Tutorial'
import type { RevealedHint } from '../interview'
import { useHints } from './useHints'

export function ProblemPanel(props: {
  problem: Problem | null
  catalog: Catalog
  doc: Y.Doc
  readOnly: boolean
  name: string
  /** A hint to bring into view (from a failing tier rule), with a counter so the same one can be asked twice. */
  focusHint: { index: number; seq: number } | null
  /**
   * In an interview (issue 22) the hints are the ones the host revealed, in their order, and nobody
   * reveals more from here; the tutorial (a worked answer) is the host's.
   */
  interview?: { revealed: RevealedHint[]; isHost: boolean } | null
}) {
  const { problem, doc, focusHint, interview } = props
  const hints = interview ? interview.revealed.map((h) => h.text) : hintList(problem?.hints)
  const { revealed, reveal } = useHints(doc, problem, hints.length, props.name)
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (!focusHint || !ref.current) return
    const part = ref.current.querySelector<HTMLDetailsElement>('#panel-hints')
    if (part) part.open = true
    const target = ref.current.querySelector<HTMLElement>(`#panel-hint-${focusHint.index}`) ?? part
    target?.scrollIntoView({ block: 'center' })
    target?.focus?.()
  }, [focusHint, problem])
  if (!problem) return <p className="muted">Loading the problem…</p>
  return (
    <div className="problem-panel" ref={ref}>
      <h2 className="panel-title">{problem.title}</h2>
      {problem.summary && <p className="muted small">{problem.summary}</p>}
      <ProblemFull
        problem={problem}
        catalog={props.catalog}
        compact
        tutorial={
          interview && !interview.isHost ? undefined : problem.tutorial ? (
            <TutorialView problem={problem} />
          ) : (
            <EstimateDrills problem={problem} />
          )
        }
        hints={
          interview ? (
            hints.length > 0 ? (
              <HintList hints={hints} revealed={hints.map(() => ({}))} onReveal={null} idPrefix="panel-" />
            ) : (
              <p className="muted small">No hints yet: the interviewer reveals them one at a time.</p>
            )
          ) : hints.length > 0 ? (
            <HintList hints={hints} revealed={revealed} onReveal={props.readOnly ? null : reveal} idPrefix="panel-" />
          ) : undefined
        }
      />
    </div>
  )
}
