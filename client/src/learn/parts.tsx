/**
 * One component per part of a problem (problems/README.md "File format"): each shows one or more
 * fields in full. {@link ProblemFull} lays them out; `fields.ts` says which part shows which field.
 */
import type { Constant, Problem, Requirement, Staff, Targets, TextSection } from '../api'
import type { Catalog } from '../catalog'
import { ComponentIcon } from '../icons'
import { Markdown } from './Markdown'
import { KeyValues, Table } from './tables'
import { formatValue, unitOf } from './units'

function asList(v: string[] | string | undefined): string[] {
  if (Array.isArray(v)) return v.filter((x) => typeof x === 'string')
  return typeof v === 'string' && v ? [v] : []
}

export function Overview({ problem }: { problem: Problem }) {
  return (
    <>
      {problem.goal && (
        <div data-field="goal">
          <h3>Goal</h3>
          <Markdown text={problem.goal} />
        </div>
      )}
      {problem.description && (
        <div data-field="description">
          <h3>Description</h3>
          <Markdown text={problem.description} />
        </div>
      )}
    </>
  )
}

function TargetList({ targets }: { targets: Targets }) {
  const rows: [string, string][] = []
  if (targets.availability_percent != null) rows.push(['Availability', `${formatValue(targets.availability_percent)} %`])
  for (const [p, ms] of Object.entries(targets.latency_ms ?? {})) rows.push([`Latency ${p}`, `${formatValue(ms)} ms`])
  if (targets.peak_rate_per_sec != null) rows.push(['Peak rate', `${formatValue(targets.peak_rate_per_sec)} per second`])
  if (rows.length === 0) return null
  return (
    <div data-field="targets">
      <h3>Targets</h3>
      <KeyValues rows={rows.map(([name, value]) => ({ name, value }))} label="Targets" />
    </div>
  )
}

export function Requirements({ problem }: { problem: Problem }) {
  const f = asList(problem.functional_requirements)
  const n: Requirement[] = Array.isArray(problem.non_functional_requirements) ? problem.non_functional_requirements : []
  return (
    <>
      {f.length > 0 && (
        <div data-field="functional_requirements">
          <h3>Functional</h3>
          <ul className="plain-list">
            {f.map((r, i) => (
              <li key={i}>
                <Markdown text={r} />
              </li>
            ))}
          </ul>
        </div>
      )}
      {n.length > 0 && (
        <div data-field="non_functional_requirements">
          <h3>Non-functional</h3>
          <KeyValues rows={n.map((r) => ({ name: r.name, value: r.text }))} label="Non-functional requirements" />
        </div>
      )}
      {problem.targets && <TargetList targets={problem.targets} />}
    </>
  )
}

export function Constants({ constants }: { constants: Constant[] }) {
  return (
    <div data-field="constants">
      <Table
        label="Constants"
        className="constants"
        head={['Name', 'Value', 'Unit']}
        rows={constants.map((c) => [
          <code key="n">{c.name}</code>,
          formatValue(c.value),
          unitOf(c.name) || (
            <span key="t" className="muted">
              {c.type}
            </span>
          ),
        ])}
      />
    </div>
  )
}

export function TextPart({ section }: { section: TextSection }) {
  return (
    <div data-field="sections">
      <Markdown text={section.text} />
    </div>
  )
}

export function StaffPart({ staff }: { staff: Staff }) {
  const phases = staff.migration_phases ?? []
  return (
    <div data-field="staff">
      {phases.length > 0 && (
        <>
          <h3>Migration phases</h3>
          <Table
            label="Migration phases"
            head={['Phase', 'Teams', 'Rollback']}
            rows={phases.map((p) => [p.phase, p.teams ?? '', p.rollback ?? ''])}
          />
        </>
      )}
      {(staff.blocks ?? []).map((b, i) => (
        <div key={i}>
          <h3>{b.title}</h3>
          <ul className="plain-list">
            {(b.items ?? []).map((it, j) => (
              <li key={j}>
                <Markdown text={it.text} />
                {asList(it.details).length > 0 && (
                  <ul>
                    {asList(it.details).map((d, k) => (
                      <li key={k}>{d}</li>
                    ))}
                  </ul>
                )}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  )
}

export function Components({ problem, catalog }: { problem: Problem; catalog: Catalog | null }) {
  return (
    <div data-field="available_components">
      {problem.available_components_authored && (
        <p className="muted small" data-field="available_components_authored">
          The seed lists no components; these were chosen from the problem's own text.
        </p>
      )}
      <ul className="component-list">
        {problem.available_components.map((t) => {
          const def = catalog?.get(t)
          return (
            <li key={t}>
              <ComponentIcon icon={def?.icon} type={t} family={def?.family} />
              <span>{catalog?.name(t) ?? t}</span>
              <code>{t}</code>
            </li>
          )
        })}
      </ul>
    </div>
  )
}

export function Tiers({ problem }: { problem: Problem }) {
  return (
    <ol className="tier-list" data-field="tiers">
      {problem.tiers.map((t) => (
        <li key={t.id}>
          <h3>
            <span className="tier-id">{t.id}</span> {t.title}
            {t.source === 'authored' && <span className="chip small">authored</span>}
          </h3>
          <ul className="plain-list">
            {t.rules.map((r, i) => (
              <li key={i}>
                {r.text}
                {r.because && <span className="rule-because"> · from {r.because}</span>}
              </li>
            ))}
          </ul>
        </li>
      ))}
    </ol>
  )
}

export function Origin({ problem }: { problem: Problem }) {
  if (!problem.origin) return null
  return (
    <p className="muted small" data-field="origin">
      Source: seed <code>{problem.origin.file}</code>, problem {problem.origin.number}
      {' · '}
      <span data-field="id">
        id <code>{problem.id}</code>
      </span>
    </p>
  )
}
