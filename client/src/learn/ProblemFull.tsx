/**
 * The problem in full (issue 21 item 1), shared by the problem page and the room's side panel: every
 * field of the file format in collapsible parts with a table of contents. Hints and the tutorial are
 * slots, because the page keeps them per browser while a room shares revealed hints with everyone.
 */
import { useRef, type ReactNode } from 'react'
import type { Problem } from '../api'
import type { Catalog } from '../catalog'
import { Components, Constants, Origin, Overview, Requirements, StaffPart, Tiers, TextPart } from './parts'
import { TiersGate } from './TiersGate'

interface Part {
  id: string
  title: string
  body: ReactNode
  /** Open when first shown; long reference parts start closed in the narrow room panel. */
  open: boolean
}

function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'part'
  )
}

/** The parts of a problem in reading order; parts whose fields are empty are left out. */
export function partsOf(problem: Problem, catalog: Catalog | null, slots: Slots, compact: boolean): Part[] {
  const parts: Part[] = []
  const add = (id: string, title: string, body: ReactNode, open = true) => parts.push({ id, title, body, open })
  if (problem.goal || problem.description) add('overview', 'Overview', <Overview problem={problem} />)
  if (problem.functional_requirements?.length || problem.non_functional_requirements?.length || problem.targets)
    add('requirements', 'Requirements', <Requirements problem={problem} />)
  if (problem.constants?.length) add('constants', 'Constants and assumptions', <Constants constants={problem.constants} />, !compact)
  ;(problem.sections ?? []).forEach((s, i) => add(`section-${i}-${slug(s.heading)}`, s.heading, <TextPart section={s} />, !compact))
  if (slots.tutorial) add('tutorial', problem.tutorial ? 'Tutorial' : 'Practise the estimates', slots.tutorial, !compact)
  if (slots.hints) add('hints', 'Hints', slots.hints)
  if (problem.staff) add('staff', problem.staff.heading || 'Staff-level considerations', <StaffPart staff={problem.staff} />, !compact)
  if (problem.available_components.length)
    add('components', 'Available components', <Components problem={problem} catalog={catalog} />, !compact)
  if (problem.tiers.length) {
    // On the page the tiers wait behind a choice (they are the answers); the room panel shows them.
    const tiers = <Tiers problem={problem} />
    add('tiers', 'Tiers', compact ? tiers : <TiersGate count={problem.tiers.length}>{tiers}</TiersGate>, !compact)
  }
  return parts
}

export interface Slots {
  hints?: ReactNode
  tutorial?: ReactNode
}

export function ProblemFull(props: { problem: Problem; catalog: Catalog | null; compact?: boolean } & Slots) {
  const { problem, catalog, compact = false } = props
  const root = useRef<HTMLDivElement>(null)
  const parts = partsOf(problem, catalog, props, compact)
  // Ids are prefixed so that the page and a panel never collide; the room's URL fragment holds its
  // tokens, so the contents scroll instead of navigating to a fragment.
  const prefix = compact ? 'panel-' : 'page-'
  const go = (id: string) => {
    const el = root.current?.querySelector<HTMLDetailsElement>(`#${prefix}${id}`)
    if (!el) return
    el.open = true
    el.scrollIntoView({ block: 'start' })
    el.querySelector('summary')?.focus()
  }
  const setAll = (open: boolean) => root.current?.querySelectorAll('details.part').forEach((d) => ((d as HTMLDetailsElement).open = open))
  return (
    <div className={`problem-full ${compact ? 'compact' : ''}`} ref={root}>
      <nav className="toc" aria-label={`Contents of ${problem.title}`}>
        <h2 className="toc-title">Contents</h2>
        <ol>
          {parts.map((p) => (
            <li key={p.id}>
              <button type="button" className="link" onClick={() => go(p.id)}>
                {p.title}
              </button>
            </li>
          ))}
        </ol>
        <div className="toc-actions">
          <button type="button" className="small" onClick={() => setAll(true)}>
            Expand all
          </button>
          <button type="button" className="small" onClick={() => setAll(false)}>
            Collapse all
          </button>
        </div>
      </nav>
      <div className="parts">
        {parts.map((p) => (
          <details key={p.id} id={`${prefix}${p.id}`} className="part" open={p.open} data-part={p.id}>
            <summary>
              <h2>{p.title}</h2>
            </summary>
            <div className="part-body">{p.body}</div>
          </details>
        ))}
        <Origin problem={problem} />
      </div>
    </div>
  )
}
