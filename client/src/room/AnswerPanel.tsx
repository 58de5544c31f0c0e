/**
 * "Show the reference" in a room (issue 21 item 4): the ghost toggle, the live diff between the
 * room's design and the reference, and the solution analysis beside the simulated figures of the
 * learner's own design (./SimComparison.tsx).
 */
import { useEffect, useState } from 'react'
import type * as Y from 'yjs'
import type { Catalog } from '../catalog'
import { AnalysisView, ReferenceView } from '../learn/Answer'
import { designDiff, type DesignDiff, type DiffItem } from '../learn/diff'
import { exportDesign } from '../schema'
import type { SimulationResult } from '../simulation'
import { SimComparison } from './SimComparison'
import type { ReferenceState } from './useReference'

export function useDiff(doc: Y.Doc, reference: ReferenceState['solution'], catalog: Catalog): DesignDiff | null {
  const [diff, setDiff] = useState<DesignDiff | null>(null)
  useEffect(() => {
    const ref = reference?.reference_solution
    if (!ref) return
    const update = () => setDiff(designDiff(exportDesign(doc), ref, catalog))
    update()
    doc.on('update', update)
    return () => doc.off('update', update)
  }, [doc, reference, catalog])
  return diff
}

export function Items({ items, catalog, empty }: { items: DiffItem[]; catalog: Catalog; empty: string }) {
  if (items.length === 0) return <p className="muted small">{empty}</p>
  return (
    <ul className="plain-list diff-list">
      {items.map((i) => (
        <li key={i.kind}>
          <strong>{catalog.name(i.kind)}</strong> <span className="muted small">({i.labels.join(', ')})</span>
        </li>
      ))}
    </ul>
  )
}

export function AnswerPanel({
  doc,
  catalog,
  reference,
  problem,
  simulation,
}: {
  doc: Y.Doc
  catalog: Catalog
  reference: ReferenceState
  problem: string | null
  simulation: SimulationResult | null
}) {
  const diff = useDiff(doc, reference.solution, catalog)
  if (!reference.asked) {
    return (
      <div className="answer-panel">
        <p className="muted">
          Try the design first. When you are ready, compare it with the reference: it is drawn over your canvas as a ghost, with what each
          side has that the other lacks.
        </p>
        <button type="button" className="primary" onClick={reference.show}>
          Show the reference
        </button>
      </div>
    )
  }
  const sol = reference.solution
  return (
    <div className="answer-panel">
      {reference.error && <p className="error-box">Could not load the reference: {reference.error}</p>}
      {!sol && !reference.error && <p className="muted">Loading the reference…</p>}
      {sol?.reference_solution && (
        <>
          <label className="toggle">
            <input type="checkbox" checked={reference.ghost} onChange={(e) => reference.setGhost(e.target.checked)} /> Ghost overlay on the
            canvas
          </label>
          {diff && (
            <section aria-labelledby="diff-missing" data-testid="diff-missing">
              <h3 id="diff-missing">In the reference, not in your design</h3>
              <Items items={diff.missing} catalog={catalog} empty="Nothing: every kind of component is there." />
              {diff.smaller.length > 0 && (
                <ul className="plain-list diff-list">
                  {diff.smaller.map((g) => (
                    <li key={g.kind}>
                      {catalog.name(g.kind)}: {g.design} instance{g.design === 1 ? '' : 's'}, the reference has {g.reference}
                    </li>
                  ))}
                </ul>
              )}
              <h3>In your design, not in the reference</h3>
              <Items items={diff.extra} catalog={catalog} empty="Nothing." />
            </section>
          )}
          <details className="part">
            <summary>
              <h2>The reference design</h2>
            </summary>
            <div className="part-body">
              <ReferenceView reference={sol.reference_solution} catalog={catalog} />
            </div>
          </details>
        </>
      )}
      {sol?.analysis && (
        <details className="part" open>
          <summary>
            <h2>Solution analysis</h2>
          </summary>
          <div className="part-body">
            <AnalysisView
              analysis={sol.analysis}
              simulated={problem ? <SimComparison doc={doc} problem={problem} analysis={sol.analysis} peak={simulation} /> : undefined}
            />
          </div>
        </details>
      )}
    </div>
  )
}
