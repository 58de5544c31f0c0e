/**
 * The design against the reference (issue 21 item 4): what the reference has that the design lacks,
 * what the design has that the reference does not, and fleets smaller than the reference's. Nodes
 * are compared by catalog kind, as tier rules are (a `redirect_client` is a `client`); notes are
 * ignored.
 */
import type { ReferenceSolution } from '../api'
import type { Catalog } from '../catalog'
import { instancesOf, NOTE_TYPE, type Design } from '../schema'

export interface DiffItem {
  kind: string
  /** Labels of the nodes concerned, on the side that has them. */
  labels: string[]
}

export interface FleetGap {
  kind: string
  design: number
  reference: number
}

export interface DesignDiff {
  missing: DiffItem[]
  extra: DiffItem[]
  smaller: FleetGap[]
}

type Counted = Map<string, { labels: string[]; instances: number }>

function byKind(nodes: { type: string; label: string; params?: Record<string, unknown> }[], catalog: Catalog): Counted {
  const out: Counted = new Map()
  for (const n of nodes) {
    if (n.type === NOTE_TYPE) continue
    const kind = catalog.get(n.type)?.kind ?? n.type
    const e = out.get(kind) ?? { labels: [], instances: 0 }
    e.labels.push(n.label || catalog.name(n.type))
    e.instances += instancesOf({ params: (n.params ?? {}) as Design['nodes'][number]['params'] })
    out.set(kind, e)
  }
  return out
}

export function designDiff(design: Design, reference: ReferenceSolution, catalog: Catalog): DesignDiff {
  const mine = byKind(design.nodes, catalog)
  const theirs = byKind(reference.nodes, catalog)
  const missing: DiffItem[] = []
  const smaller: FleetGap[] = []
  for (const [kind, r] of theirs) {
    const d = mine.get(kind)
    if (!d) missing.push({ kind, labels: r.labels })
    else if (d.instances < r.instances) smaller.push({ kind, design: d.instances, reference: r.instances })
  }
  const extra = [...mine].filter(([kind]) => !theirs.has(kind)).map(([kind, d]) => ({ kind, labels: d.labels }))
  return { missing, extra, smaller }
}
