/**
 * The capacity tab of a room (issue 19 item 6): a what-if control (normal / peak / a spike of N× peak,
 * fail a node, cold caches) run for this participant only, the bottleneck called out with its
 * arithmetic, the end-to-end figures, the capacity checks at peak with their explanations, the
 * busiest nodes, and the sentences behind every figure.
 */
import { useId, type CSSProperties } from 'react'
import {
  heatBand,
  heatColor,
  isPlainPeak,
  loadLabel,
  ms,
  num,
  pct,
  rps,
  saturation,
  usd,
  type LoadSpec,
  type SimulationResult,
} from '../simulation'
import type { WhatIf } from './useSimulation'

/** Spike multipliers the slider offers: ×1 to ×20 of peak. */
const SPIKE_MIN = 1
const SPIKE_MAX = 20
const SPIKE_STEP = 0.5

export function scenarioCaption(r: SimulationResult | null): string | undefined {
  if (!r) return undefined
  const parts = [loadLabel(r.scenario.load)]
  for (const id of r.scenario.fail) parts.push(`${r.nodes[id]?.label || id} failed`)
  if (r.scenario.cold_cache) parts.push('cold caches')
  return parts.join(', ')
}

/** What the room's shared result is judged under: the peak, or the host's curveball (issue 22). */
function roomCaption(room: SimulationResult | null): string {
  if (room && !isPlainPeak(room.scenario))
    return `Showing the room's design under the host's curveball (${scenarioCaption(room)}), as everyone sees it.`
  return "Showing the room's design at the problem's peak, as everyone sees it."
}

export function CapacityPanel({ whatIf, onHighlight }: { whatIf: WhatIf; onHighlight?: (nodes: string[]) => void }) {
  const r = whatIf.shown
  if (!whatIf.room && !r) {
    return <p className="muted">The capacity simulation appears here once the room has a design with a client.</p>
  }
  return (
    <div className="capacity-panel" data-testid="capacity-panel">
      <WhatIfControl whatIf={whatIf} />
      {r && (
        <>
          <Bottleneck r={r} onHighlight={onHighlight} />
          <Figures r={r} />
          <Checks r={whatIf.room ?? r} onHighlight={onHighlight} />
          <Busiest r={r} />
          <details>
            <summary>The arithmetic</summary>
            <ul className="sim-explanations" data-testid="sim-explanations">
              {r.explanations.map((e, i) => (
                <li key={i}>{e}</li>
              ))}
            </ul>
          </details>
          {r.design_issues.length > 0 && (
            <section className="findings issue">
              <h3>Not simulated as drawn</h3>
              <ul>
                {r.design_issues.map((d, i) => (
                  <li key={i}>
                    <span className="finding-code">{d.code}</span> {d.message}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </>
      )}
    </div>
  )
}

function WhatIfControl({ whatIf }: { whatIf: WhatIf }) {
  const id = useId()
  const { scenario, setScenario } = whatIf
  const room = whatIf.room
  const spike = typeof scenario.load === 'number' ? scenario.load : scenario.load === 'peak' ? 1 : null
  const setLoad = (load: LoadSpec) => setScenario({ ...scenario, load: load === 1 ? 'peak' : load })
  const candidates = room
    ? Object.entries(room.nodes)
        .filter(([, n]) => n.role !== 'client')
        .sort((a, b) => (a[1].label || a[0]).localeCompare(b[1].label || b[0]))
    : []
  return (
    <section className="what-if" aria-labelledby={`${id}-h`} data-testid="what-if">
      <h3 id={`${id}-h`}>What if…</h3>
      <div className="row" role="group" aria-label="Load">
        <button
          type="button"
          className={scenario.load === 'normal' ? 'on' : ''}
          aria-pressed={scenario.load === 'normal'}
          onClick={() => setLoad('normal')}
        >
          Normal
        </button>
        <button
          type="button"
          className={scenario.load === 'peak' ? 'on' : ''}
          aria-pressed={scenario.load === 'peak'}
          onClick={() => setLoad('peak')}
        >
          Peak
        </button>
      </div>
      <div className="row">
        <label htmlFor={`${id}-spike`}>Load</label>
        <input
          id={`${id}-spike`}
          type="range"
          min={SPIKE_MIN}
          max={SPIKE_MAX}
          step={SPIKE_STEP}
          value={spike ?? SPIKE_MIN}
          onChange={(e) => setLoad(Number(e.target.value))}
          aria-valuetext={spike === null ? 'normal load' : `${spike} times peak`}
          data-testid="load-multiplier"
        />
        <output htmlFor={`${id}-spike`} data-testid="load-label">
          {spike === null ? 'normal' : `× ${num(spike)} peak`}
        </output>
      </div>
      <div className="row">
        <label htmlFor={`${id}-fail`}>Fail</label>
        <select
          id={`${id}-fail`}
          value={scenario.fail[0] ?? ''}
          onChange={(e) => setScenario({ ...scenario, fail: e.target.value ? [e.target.value] : [] })}
          data-testid="fail-node"
        >
          <option value="">no node</option>
          {candidates.map(([nid, n]) => (
            <option key={nid} value={nid}>
              {n.label || nid}
            </option>
          ))}
        </select>
      </div>
      <label className="toggle">
        <input type="checkbox" checked={scenario.cold_cache} onChange={(e) => setScenario({ ...scenario, cold_cache: e.target.checked })} />{' '}
        Cold caches (hit rate 0)
      </label>
      <p className="muted small" role="status">
        {whatIf.active ? (
          <>
            {whatIf.pending ? 'Simulating… ' : ''}Showing {scenarioCaption(whatIf.shown) ?? 'the what-if'} for you only; the room still sees{' '}
            {whatIf.room && !isPlainPeak(whatIf.room.scenario) ? 'the host’s curveball' : 'the peak'}.{' '}
            <button type="button" className="link" onClick={whatIf.reset}>
              Back to peak
            </button>
          </>
        ) : (
          roomCaption(whatIf.room)
        )}
      </p>
      {whatIf.error && <p className="error-box">Could not simulate: {whatIf.error}</p>}
    </section>
  )
}

function Bottleneck({ r, onHighlight }: { r: SimulationResult; onHighlight?: (nodes: string[]) => void }) {
  const s = saturation(r)
  if (!s) {
    return (
      <p className="muted" data-testid="bottleneck-callout">
        No node takes load yet: connect a client to the design.
      </p>
    )
  }
  const n = r.nodes[s.id]
  const color = n ? heatColor(n.utilisation) : undefined
  return (
    <section
      className="bottleneck-callout"
      data-testid="bottleneck-callout"
      style={color ? ({ '--heat': color } as CSSProperties) : undefined}
    >
      <p>
        <strong>Bottleneck: {s.label}</strong> at {pct(s.utilisation)}{' '}
        {s.utilisation > 1 ? '(saturated: the excess fails)' : `saturates first, at ${rps(s.at_rps)} rps (${num(s.at_peak)}× peak)`}
        {onHighlight && (
          <>
            {' '}
            <button type="button" className="link" onClick={() => onHighlight([s.id])}>
              show
            </button>
          </>
        )}
      </p>
      <ol>
        {s.steps.map((x, i) => (
          <li key={i}>{x}</li>
        ))}
      </ol>
    </section>
  )
}

function Figures({ r }: { r: SimulationResult }) {
  const e = r.end_to_end
  const target = r.scenario.latency_target_ms
  const p = r.scenario.latency_percentile === 'p50' ? e.p50_ms : e.p99_ms
  return (
    <section aria-label="End-to-end figures">
      <h3>End to end at {scenarioCaption(r)}</h3>
      <dl className="figures" data-testid="sim-figures">
        <div>
          <dt>Offered</dt>
          <dd data-testid="fig-offered">{num(r.scenario.offered_rps)} rps</dd>
        </div>
        <div>
          <dt>Answered</dt>
          <dd data-testid="fig-throughput">{num(e.throughput_rps)} rps</dd>
        </div>
        <div>
          <dt>Error rate</dt>
          <dd data-testid="fig-errors" className={e.error_rate > 0 ? 'bad' : ''}>
            {pct(e.error_rate)}
          </dd>
        </div>
        <div>
          <dt>Latency p50 / p99</dt>
          <dd data-testid="fig-latency" className={target > 0 && p > target ? 'bad' : ''}>
            {ms(e.p50_ms)} / {ms(e.p99_ms)}
          </dd>
        </div>
        <div>
          <dt>Latency target</dt>
          <dd>
            {r.scenario.latency_percentile} &lt; {ms(target)}
          </dd>
        </div>
        <div>
          <dt>Cost a month</dt>
          <dd data-testid="fig-cost">{usd(r.monthly_usd)}</dd>
        </div>
      </dl>
    </section>
  )
}

function Checks({ r, onHighlight }: { r: SimulationResult; onHighlight?: (nodes: string[]) => void }) {
  return (
    <section aria-label="Capacity checks">
      <h3>Capacity checks at the peak of {num(r.scenario.peak_rps)} rps</h3>
      <ul className="sim-checks" data-testid="sim-checks">
        {r.checks.map((c) => (
          <li key={c.id} className={c.status} data-check={c.id} data-status={c.status}>
            <span className={`mark ${c.status === 'pass' ? 'ok' : c.status === 'fail' ? 'no' : 'info'}`} role="img" aria-label={c.status}>
              {c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : 'i'}
            </span>
            <span>
              {c.title}
              {c.nodes.length > 0 && onHighlight && (
                <>
                  {' '}
                  <button type="button" className="link small" onClick={() => onHighlight(c.nodes)}>
                    show
                  </button>
                </>
              )}
              <span className="why">{c.explanation}</span>
            </span>
          </li>
        ))}
      </ul>
    </section>
  )
}

/** The five busiest sized nodes: where the next instance should go. */
function Busiest({ r }: { r: SimulationResult }) {
  const rows = Object.entries(r.nodes)
    .filter(([, n]) => n.capacity_rps > 0 && n.offered_rps > 0)
    .sort((a, b) => b[1].utilisation - a[1].utilisation)
    .slice(0, 5)
  if (rows.length === 0) return null
  return (
    <section aria-label="Busiest nodes">
      <h3>Busiest nodes</h3>
      <table className="sim-compare" data-testid="busiest">
        <thead>
          <tr>
            <th>Node</th>
            <th>Offered</th>
            <th>Capacity</th>
            <th>Util.</th>
            <th>Latency</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([id, n]) => (
            <tr key={id}>
              <td>
                <span className={`heat-swatch heat-${heatBand(n)}`} aria-hidden="true" /> {n.label || id}
              </td>
              <td>{rps(n.offered_rps)}</td>
              <td>
                {num(n.instances)} × {rps(n.capacity_rps / Math.max(1, n.instances))}
              </td>
              <td>{pct(n.utilisation)}</td>
              <td>{ms(n.latency_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
