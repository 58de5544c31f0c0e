/**
 * The hints revealed in this room (schema `hints`), live: every participant sees a hint as soon as
 * anyone reveals it. Revealing also counts towards this browser's progress on the problem.
 */
import { useCallback, useEffect, useState } from 'react'
import type * as Y from 'yjs'
import { recordProgress } from '../learn/progress'
import { revealNextHint, revealedHints, root, type HintReveal } from '../schema'

export function useHints(doc: Y.Doc, problem: { id: string; title: string } | null, total: number, name: string) {
  const [revealed, setRevealed] = useState<HintReveal[]>(() => revealedHints(doc))
  useEffect(() => {
    const m = root(doc).hints
    const update = () => setRevealed(revealedHints(doc))
    update()
    m.observe(update)
    return () => m.unobserve(update)
  }, [doc])
  useEffect(() => {
    if (problem && revealed.length > 0) recordProgress(problem.id, { title: problem.title, hintsUsed: Math.min(revealed.length, total) })
  }, [problem, revealed.length, total])
  const reveal = useCallback(() => revealNextHint(doc, name, total), [doc, name, total])
  return { revealed, reveal }
}
