/**
 * The structured sections of a room (docs/PROTOCOL.md §3, "Sections"; issue 23): the one place in
 * the client that knows how they are laid out in the room's Yjs document. The server's twin is
 * `server/src/sections.rs`, which reads the same keys and runs the advisory checks (`section_checks`).
 *
 * Root of the document (each section a root type of its own, so two clients starting one at once
 * never race to create a nested type):
 * - `req_functional`:    Y.Text  functional requirements, one a line
 * - `req_nonfunctional`: Y.Text  non-functional requirements, one a line
 * - `estimates`:  Y.Array<Y.Map>  {id, name, value, unit, arithmetic}
 * - `api`:        Y.Array<Y.Map>  {id, method, path, request, response}
 * - `data_model`: Y.Array<Y.Map>  {id, name, fields, keys, indexes, partitioning}
 *
 * Fields are written as Y.Text (collaborative, with carets); readers accept a string or a Y.Text,
 * and `value` may also be a number. Anything else reads as empty.
 */
import * as Y from 'yjs'
import { LOCAL_ORIGIN, newId } from '../schema'

export const FUNCTIONAL_KEY = 'req_functional'
export const NONFUNCTIONAL_KEY = 'req_nonfunctional'
export const ESTIMATES_KEY = 'estimates'
export const API_KEY = 'api'
export const DATA_MODEL_KEY = 'data_model'

export const ESTIMATE_FIELDS = ['name', 'value', 'unit', 'arithmetic'] as const
export const ENDPOINT_FIELDS = ['method', 'path', 'request', 'response'] as const
export const ENTITY_FIELDS = ['name', 'fields', 'keys', 'indexes', 'partitioning'] as const

export type EstimateField = (typeof ESTIMATE_FIELDS)[number]
export type EndpointField = (typeof ENDPOINT_FIELDS)[number]
export type EntityField = (typeof ENTITY_FIELDS)[number]

export type Estimate = { id: string } & Record<EstimateField, string>
export type Endpoint = { id: string } & Record<EndpointField, string>
export type Entity = { id: string } & Record<EntityField, string>

/** The sections as plain data: the same shape as the server's `Sections` (report, history). */
export interface Sections {
  functional: string[]
  non_functional: string[]
  estimates: Estimate[]
  api: Endpoint[]
  data_model: Entity[]
}

export type ListKey = typeof ESTIMATES_KEY | typeof API_KEY | typeof DATA_MODEL_KEY

export const FIELDS_OF: Record<ListKey, readonly string[]> = {
  [ESTIMATES_KEY]: ESTIMATE_FIELDS,
  [API_KEY]: ENDPOINT_FIELDS,
  [DATA_MODEL_KEY]: ENTITY_FIELDS,
}

/** Which sections an interview phase (issue 22's default phase names) points at. */
export const PHASE_SECTIONS: Record<string, string[]> = {
  requirements: [FUNCTIONAL_KEY, NONFUNCTIONAL_KEY],
  estimates: [ESTIMATES_KEY],
  api_and_data_model: [API_KEY, DATA_MODEL_KEY],
}

export interface SectionsRoot {
  functional: Y.Text
  nonFunctional: Y.Text
  estimates: Y.Array<Y.Map<unknown>>
  api: Y.Array<Y.Map<unknown>>
  dataModel: Y.Array<Y.Map<unknown>>
}

export function sectionsRoot(doc: Y.Doc): SectionsRoot {
  return {
    functional: doc.getText(FUNCTIONAL_KEY),
    nonFunctional: doc.getText(NONFUNCTIONAL_KEY),
    estimates: doc.getArray<Y.Map<unknown>>(ESTIMATES_KEY),
    api: doc.getArray<Y.Map<unknown>>(API_KEY),
    dataModel: doc.getArray<Y.Map<unknown>>(DATA_MODEL_KEY),
  }
}

export function listOf(doc: Y.Doc, key: ListKey): Y.Array<Y.Map<unknown>> {
  return doc.getArray<Y.Map<unknown>>(key)
}

/** Lines of a requirements text, as the server reads them. */
export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) =>
      l
        .trim()
        .replace(/^[-*•]+/, '')
        .trim(),
    )
    .filter((l) => l !== '')
}

function field(m: Y.Map<unknown>, key: string): string {
  const v = m.get(key)
  if (v instanceof Y.Text) return v.toString()
  if (typeof v === 'string') return v
  if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  return ''
}

function entries<F extends string>(arr: Y.Array<Y.Map<unknown>>, fields: readonly F[]) {
  const out: ({ id: string } & Record<F, string>)[] = []
  arr.forEach((m) => {
    if (!(m instanceof Y.Map)) return
    const row = { id: field(m, 'id') } as { id: string } & Record<F, string>
    for (const f of fields) (row as Record<string, string>)[f] = field(m, f)
    out.push(row)
  })
  return out
}

export function readSections(doc: Y.Doc): Sections {
  const r = sectionsRoot(doc)
  return {
    functional: lines(r.functional.toString()),
    non_functional: lines(r.nonFunctional.toString()),
    estimates: entries(r.estimates, ESTIMATE_FIELDS),
    api: entries(r.api, ENDPOINT_FIELDS),
    data_model: entries(r.dataModel, ENTITY_FIELDS),
  }
}

/** Appends an entry to a list section, every field a Y.Text; returns its id. */
export function addEntry(doc: Y.Doc, key: ListKey, values: Record<string, string> = {}): string {
  const id = newId()
  doc.transact(() => {
    const m = new Y.Map<unknown>()
    m.set('id', id)
    for (const f of FIELDS_OF[key]) m.set(f, new Y.Text(values[f] ?? ''))
    listOf(doc, key).push([m])
  }, LOCAL_ORIGIN)
  return id
}

export function removeEntry(doc: Y.Doc, key: ListKey, id: string): void {
  const arr = listOf(doc, key)
  doc.transact(() => {
    for (let i = arr.length - 1; i >= 0; i--) {
      const m = arr.get(i)
      if (m instanceof Y.Map && field(m, 'id') === id) arr.delete(i, 1)
    }
  }, LOCAL_ORIGIN)
}

/**
 * The Y.Text of one field of an entry, for a collaborative editor (created in place when the field
 * is missing or was written as a plain string).
 */
export function entryText(doc: Y.Doc, key: ListKey, id: string, f: string): Y.Text | null {
  const arr = listOf(doc, key)
  for (let i = 0; i < arr.length; i++) {
    const m = arr.get(i)
    if (!(m instanceof Y.Map) || field(m, 'id') !== id) continue
    const v = m.get(f)
    if (v instanceof Y.Text) return v
    const text = new Y.Text(field(m, f))
    doc.transact(() => m.set(f, text), LOCAL_ORIGIN)
    return text
  }
  return null
}

/** Writes plain sections into a document (tests, import). Replaces what the sections held. */
export function writeSections(doc: Y.Doc, s: Sections): void {
  const r = sectionsRoot(doc)
  doc.transact(() => {
    r.functional.delete(0, r.functional.length)
    r.functional.insert(0, s.functional.join('\n'))
    r.nonFunctional.delete(0, r.nonFunctional.length)
    r.nonFunctional.insert(0, s.non_functional.join('\n'))
    const put = (arr: Y.Array<Y.Map<unknown>>, rows: Record<string, string>[], fields: readonly string[]) => {
      arr.delete(0, arr.length)
      for (const row of rows) {
        const m = new Y.Map<unknown>()
        m.set('id', row.id || newId())
        for (const f of fields) m.set(f, new Y.Text(row[f] ?? ''))
        arr.push([m])
      }
    }
    put(r.estimates, s.estimates, ESTIMATE_FIELDS)
    put(r.api, s.api, ENDPOINT_FIELDS)
    put(r.dataModel, s.data_model, ENTITY_FIELDS)
  }, LOCAL_ORIGIN)
}

/** The `section_checks` message's result (server-computed advisory checks). */
export type CheckStatus = 'pass' | 'fail' | 'info'
export interface SectionCheck {
  id: 'estimates' | 'non_functional' | 'api_coverage' | 'data_model_keys'
  title: string
  status: CheckStatus
  explanation: string
  items: CheckItem[]
}
/** The host's verdict on an item of the API checklist (the `api_override` host action). */
export interface ApiOverride {
  covered: boolean
  by: string
  at: number
}
export interface CheckItem {
  name: string
  status: CheckStatus
  explanation: string
  /** Set when the host overrode the name matching (`api_coverage` only). */
  override?: ApiOverride
}
export interface SectionChecks {
  checks: SectionCheck[]
}
