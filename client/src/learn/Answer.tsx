/**
 * The answer, for after an attempt (issue 21 item 4): the reference design's prose and components,
 * and the solution analysis (phases with their figures, trade-offs with pros and cons, cost). The
 * room shows it beside its ghost overlay and the design diff; the problem page behind a button.
 */
import type { ReactNode } from 'react'
import type { Analysis, ReferenceSolution } from '../api'
import type { Catalog } from '../catalog'
import { Markdown } from './Markdown'
import { KeyValues } from './tables'

function list(v: string[] | string | undefined): string[] {
  return Array.isArray(v) ? v : typeof v === 'string' && v ? [v] : []
}

export function ReferenceView({ reference, catalog }: { reference: ReferenceSolution; catalog: Catalog | null }) {
  return (
    <div data-field="reference_solution">
      {reference.text && <Markdown text={reference.text} />}
      <h3>Components of the reference</h3>
      <ul className="plain-list">
        {reference.nodes.map((n) => (
          <li key={n.id}>
            {n.label} <code>{catalog?.name(n.type) ?? n.type}</code>
            {typeof n.params?.instances === 'number' && n.params.instances > 1 && <> × {n.params.instances}</>}
            {n.added && <span className="chip small">added to meet its tiers</span>}
          </li>
        ))}
      </ul>
    </div>
  )
}

export function AnalysisView({ analysis, simulated }: { analysis: Analysis; simulated?: ReactNode }) {
  return (
    <div data-field="analysis">
      {analysis.overview && <Markdown text={analysis.overview} />}
      {(analysis.phases ?? []).map((p, i) => (
        <div key={i} className="phase">
          <h3>
            {p.title || p.name} <span className="chip small">{p.name}</span>
          </h3>
          {p.summary && <Markdown text={p.summary} />}
          <KeyValues rows={p.figures ?? []} label={`Figures of the ${p.name} phase`} />
        </div>
      ))}
      {/* The capacity simulation is built elsewhere; its figures for the learner's design go here. */}
      <div className="simulated" data-testid="simulated-figures">
        <h3>Your design, simulated</h3>
        {simulated ?? <p className="muted small">The capacity simulation's figures for your design will appear here once it has landed.</p>}
      </div>
      {(analysis.trade_offs ?? []).length > 0 && <h3>Trade-offs</h3>}
      {(analysis.trade_offs ?? []).map((t, i) => (
        <div key={i} className="trade-off">
          <h4>{t.title}</h4>
          <div className="pros-cons">
            {list(t.pros).length > 0 && (
              <ul aria-label="Pros">
                {list(t.pros).map((x, j) => (
                  <li key={j}>+ {x}</li>
                ))}
              </ul>
            )}
            {list(t.cons).length > 0 && (
              <ul aria-label="Cons">
                {list(t.cons).map((x, j) => (
                  <li key={j}>− {x}</li>
                ))}
              </ul>
            )}
          </div>
          {t.best_for && <p className="small">Best for: {t.best_for}</p>}
          {t.cost && <p className="small">Cost: {t.cost}</p>}
        </div>
      ))}
      {analysis.cost && (
        <>
          <h3>Cost</h3>
          <KeyValues rows={analysis.cost.totals ?? []} label="Cost totals" />
          <KeyValues rows={analysis.cost.breakdown ?? []} label="Cost breakdown" />
        </>
      )}
      {list(analysis.other).length > 0 && (
        <ul className="plain-list">
          {list(analysis.other).map((x, i) => (
            <li key={i}>{x}</li>
          ))}
        </ul>
      )}
    </div>
  )
}
