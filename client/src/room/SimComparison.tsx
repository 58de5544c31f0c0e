/**
 * The learner's design, simulated, beside the problem's published solution analysis (issue 19 item
 * 6): for each phase of the analysis (normal, peak, failure …) its published figures and what the
 * simulation gives for the room's design in the same situation. Normal load is simulated for this
 * person through `POST /api/simulate`; peak is the room's shared result; failure is the
 * single-point-of-failure check.
 */
import type * as Y from 'yjs'
import type { Analysis } from '../api'
import { ms, num, pct, usd, type SimulationResult } from '../simulation'
import { useSimulated } from './useSimulation'

const NORMAL = { load: 'normal' as const, fail: [], cold_cache: false }

type Phase = NonNullable<Analysis['phases']>[number]

function Simulated({ r }: { r: SimulationResult }) {
  const e = r.end_to_end
  return (
    <ul className="plain-list">
      <li>
        Throughput: {num(e.throughput_rps)} of {num(r.scenario.offered_rps)} rps
        {r.bottleneck && r.nodes[r.bottleneck] && (
          <>
            {' '}
            (busiest: {r.nodes[r.bottleneck].label || r.bottleneck} at {pct(r.nodes[r.bottleneck].utilisation)})
          </>
        )}
      </li>
      <li>
        Latency: p50 {ms(e.p50_ms)}, p99 {ms(e.p99_ms)}
      </li>
      <li>Error rate: {pct(e.error_rate)}</li>
      <li>
        Cost: {usd(r.monthly_usd)} a month ({usd(r.monthly_usd / 730)} an hour)
      </li>
    </ul>
  )
}

function Failure({ r }: { r: SimulationResult }) {
  const spof = r.checks.find((c) => c.id === 'no_single_point_of_failure')
  if (!spof) {
    return (
      <p className="small muted">
        The availability target ({num(r.scenario.availability_percent)} %) is below 99.9 %: single points of failure are not checked.
      </p>
    )
  }
  return (
    <p className="small">
      <strong>{spof.status === 'pass' ? 'No single point of failure' : 'Single points of failure'}</strong>: {spof.explanation}
    </p>
  )
}

function ours(phase: Phase, normal: SimulationResult | null, peak: SimulationResult) {
  const name = phase.name.toLowerCase()
  if (name.includes('fail')) return <Failure r={peak} />
  if (name.includes('normal')) return normal ? <Simulated r={normal} /> : <p className="muted small">Simulating normal load…</p>
  if (name.includes('peak') || name.includes('spike')) return <Simulated r={peak} />
  return <p className="muted small">No simulated counterpart.</p>
}

export function SimComparison({
  doc,
  problem,
  analysis,
  peak,
}: {
  doc: Y.Doc
  problem: string
  analysis: Analysis
  peak: SimulationResult | null
}) {
  const phases = analysis.phases ?? []
  const { result: normal, error } = useSimulated(doc, problem, NORMAL, phases.length > 0 && peak !== null)
  if (!peak) return <p className="muted small">The simulation appears once the room's design has a client connected.</p>
  if (phases.length === 0) return <Simulated r={peak} />
  return (
    <>
      {error && <p className="error-box">Could not simulate normal load: {error}</p>}
      <div className="sim-compare" data-testid="sim-compare">
        {phases.map((p, i) => (
          <section key={i} className="sim-phase" aria-label={p.title || p.name}>
            <h4>{p.title || p.name}</h4>
            <div className="sim-phase-cols">
              <div>
                <h5>Published analysis</h5>
                <ul className="plain-list">
                  {(p.figures ?? []).map((f, j) => (
                    <li key={j}>
                      {f.name}: {f.value}
                    </li>
                  ))}
                </ul>
              </div>
              <div>
                <h5>Your design, simulated</h5>
                {ours(p, normal, peak)}
              </div>
            </div>
          </section>
        ))}
      </div>
    </>
  )
}
