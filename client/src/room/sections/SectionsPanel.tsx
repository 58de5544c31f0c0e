/**
 * The Sections tab of a room (issue 23, point 1): the interview's written parts beside the diagram:
 * functional and non-functional requirements (collaborative text, a requirement a line), estimates,
 * API endpoints and the data model (lists of entries whose every field is collaborative text).
 * Everything is read and written through `report/sections.ts`; the server's advisory checks
 * (`section_checks`) are shown beside the section they judge, and beside each estimate and entity.
 * `phase` (an interview phase name) highlights the sections that phase is about.
 */
import { useEffect, useMemo, useRef, useState } from 'react'
import * as Y from 'yjs'
import type { Awareness } from 'y-protocols/awareness'
import {
  API_KEY,
  DATA_MODEL_KEY,
  ESTIMATES_KEY,
  FUNCTIONAL_KEY,
  NONFUNCTIONAL_KEY,
  addEntry,
  entryText,
  listOf,
  readSections,
  removeEntry,
  sectionsRoot,
  type ListKey,
  type SectionCheck,
  type SectionChecks,
  type Sections,
} from '../../report/sections'
import { YTextField } from './YTextField'
import { ApiVerdict, type OnVerdict } from '../../report/ApiVerdict'
import { STATUS_ICON, SECTION_KEYS, SECTION_TITLES, checkFor, itemFor, sectionsOfPhase, type SectionKey } from './checks'
import './sections.css'

/** The sections whose check is a checklist of the problem's items (shown folded under the editor). */
const LISTED: SectionKey[] = [NONFUNCTIONAL_KEY, API_KEY]

/** The sections as plain data, re-read whenever any of them changes (ids and names for the rows). */
function useSections(doc: Y.Doc): Sections {
  const [s, setS] = useState(() => readSections(doc))
  useEffect(() => {
    const r = sectionsRoot(doc)
    const update = () => setS(readSections(doc))
    r.functional.observeDeep(update)
    r.nonFunctional.observeDeep(update)
    r.estimates.observeDeep(update)
    r.api.observeDeep(update)
    r.dataModel.observeDeep(update)
    update()
    return () => {
      r.functional.unobserveDeep(update)
      r.nonFunctional.unobserveDeep(update)
      r.estimates.unobserveDeep(update)
      r.api.unobserveDeep(update)
      r.dataModel.unobserveDeep(update)
    }
  }, [doc])
  return s
}

export interface SectionsPanelProps {
  doc: Y.Doc
  awareness: Awareness
  readOnly: boolean
  checks: SectionChecks | null
  /** The interview clock's current phase (`requirements`, `estimates`, `api_and_data_model`…), if any. */
  phase?: string | null
  /** The host's verdict on an item of the API checklist (host connections only). */
  onVerdict?: OnVerdict
}

export function SectionsPanel({ doc, awareness, readOnly, checks, phase, onVerdict }: SectionsPanelProps) {
  const sections = useSections(doc)
  const current = useMemo(() => sectionsOfPhase(phase), [phase])
  const refs = useRef<Partial<Record<SectionKey, HTMLElement | null>>>({})
  // A new phase brings its first section into view.
  useEffect(() => {
    if (current[0]) refs.current[current[0]]?.scrollIntoView({ block: 'start', behavior: 'smooth' })
  }, [current])
  const root = useMemo(() => sectionsRoot(doc), [doc])
  return (
    <div className="sections-panel" data-testid="sections-panel">
      <p className="muted small">
        {readOnly
          ? 'View only: the sections as the room writes them, with the server’s checks.'
          : 'Requirements, estimates, API and data model: shared with everyone, checked against the problem (advice, not gates).'}
      </p>
      {SECTION_KEYS.map((key) => {
        const check = checkFor(checks, key)
        const isCurrent = current.includes(key)
        return (
          <section
            key={key}
            ref={(el) => {
              refs.current[key] = el
            }}
            className={`sec ${isCurrent ? 'sec-current' : ''}`}
            data-section={key}
            aria-labelledby={`sec-h-${key}`}
          >
            <header className="sec-head">
              <h3 id={`sec-h-${key}`}>{SECTION_TITLES[key]}</h3>
              {isCurrent && (
                <span className="chip small sec-phase" data-testid="sec-phase">
                  this phase
                </span>
              )}
              {check && <CheckBadge check={check} />}
            </header>
            {check && check.explanation && !LISTED.includes(key) && <p className={`sec-explain ${check.status}`}>{check.explanation}</p>}
            {key === FUNCTIONAL_KEY && (
              <YTextField
                text={root.functional}
                awareness={awareness}
                readOnly={readOnly}
                label="Functional requirements"
                hint="One a line: users shorten a URL…"
                className="sec-text"
              />
            )}
            {key === NONFUNCTIONAL_KEY && (
              <YTextField
                text={root.nonFunctional}
                awareness={awareness}
                readOnly={readOnly}
                label="Non-functional requirements"
                hint="One a line: p99 < 100 ms, 99.99 % available…"
                className="sec-text"
              />
            )}
            {key === ESTIMATES_KEY && (
              <EntryList
                doc={doc}
                listKey={ESTIMATES_KEY}
                rows={sections.estimates}
                readOnly={readOnly}
                said={!!check?.explanation}
                noun="estimate"
              >
                {(id, name) => (
                  <>
                    <div className="sec-grid est">
                      <Field
                        doc={doc}
                        listKey={ESTIMATES_KEY}
                        id={id}
                        field="name"
                        label="Estimate name"
                        hint="peak writes"
                        awareness={awareness}
                        readOnly={readOnly}
                      />
                      <Field
                        doc={doc}
                        listKey={ESTIMATES_KEY}
                        id={id}
                        field="value"
                        label="Estimate value"
                        hint="2,300"
                        awareness={awareness}
                        readOnly={readOnly}
                      />
                      <Field
                        doc={doc}
                        listKey={ESTIMATES_KEY}
                        id={id}
                        field="unit"
                        label="Estimate unit"
                        hint="/s"
                        awareness={awareness}
                        readOnly={readOnly}
                      />
                    </div>
                    <Labelled label="=">
                      <Field
                        doc={doc}
                        listKey={ESTIMATES_KEY}
                        id={id}
                        field="arithmetic"
                        label="Estimate arithmetic"
                        hint="100M DAU × 2 / 86,400 × 3"
                        awareness={awareness}
                        readOnly={readOnly}
                        mono
                      />
                    </Labelled>
                    <RowCheck check={check} name={name} />
                  </>
                )}
              </EntryList>
            )}
            {key === API_KEY && (
              <EntryList doc={doc} listKey={API_KEY} rows={sections.api} readOnly={readOnly} said={!!check?.explanation} noun="endpoint">
                {(id) => (
                  <>
                    <div className="sec-grid api">
                      <Field
                        doc={doc}
                        listKey={API_KEY}
                        id={id}
                        field="method"
                        label="Endpoint method"
                        hint="POST"
                        awareness={awareness}
                        readOnly={readOnly}
                        mono
                      />
                      <Field
                        doc={doc}
                        listKey={API_KEY}
                        id={id}
                        field="path"
                        label="Endpoint path"
                        hint="/urls"
                        awareness={awareness}
                        readOnly={readOnly}
                        mono
                      />
                    </div>
                    <Labelled label="request">
                      <Field
                        doc={doc}
                        listKey={API_KEY}
                        id={id}
                        field="request"
                        label="Endpoint request"
                        hint="{longUrl}"
                        awareness={awareness}
                        readOnly={readOnly}
                        mono
                        multi
                      />
                    </Labelled>
                    <Labelled label="response">
                      <Field
                        doc={doc}
                        listKey={API_KEY}
                        id={id}
                        field="response"
                        label="Endpoint response"
                        hint="{code}"
                        awareness={awareness}
                        readOnly={readOnly}
                        mono
                        multi
                      />
                    </Labelled>
                  </>
                )}
              </EntryList>
            )}
            {key === DATA_MODEL_KEY && (
              <EntryList
                doc={doc}
                listKey={DATA_MODEL_KEY}
                rows={sections.data_model}
                readOnly={readOnly}
                said={!!check?.explanation}
                noun="entity"
              >
                {(id, name) => (
                  <>
                    <Field
                      doc={doc}
                      listKey={DATA_MODEL_KEY}
                      id={id}
                      field="name"
                      label="Entity name"
                      hint="Url"
                      awareness={awareness}
                      readOnly={readOnly}
                      strong
                    />
                    <Labelled label="fields">
                      <Field
                        doc={doc}
                        listKey={DATA_MODEL_KEY}
                        id={id}
                        field="fields"
                        label="Entity fields"
                        hint="code, long_url, owner, created_at"
                        awareness={awareness}
                        readOnly={readOnly}
                        mono
                        multi
                      />
                    </Labelled>
                    <Labelled label="key">
                      <Field
                        doc={doc}
                        listKey={DATA_MODEL_KEY}
                        id={id}
                        field="keys"
                        label="Entity keys"
                        hint="code"
                        awareness={awareness}
                        readOnly={readOnly}
                        mono
                      />
                    </Labelled>
                    <Labelled label="indexes">
                      <Field
                        doc={doc}
                        listKey={DATA_MODEL_KEY}
                        id={id}
                        field="indexes"
                        label="Entity indexes"
                        hint="owner, created_at"
                        awareness={awareness}
                        readOnly={readOnly}
                        mono
                        multi
                      />
                    </Labelled>
                    <Labelled label="partition">
                      <Field
                        doc={doc}
                        listKey={DATA_MODEL_KEY}
                        id={id}
                        field="partitioning"
                        label="Entity partitioning"
                        hint="hash(code)"
                        awareness={awareness}
                        readOnly={readOnly}
                        mono
                      />
                    </Labelled>
                    {name.trim() && <RowCheck check={check} name={name} />}
                  </>
                )}
              </EntryList>
            )}
            {check && LISTED.includes(key) && <CheckItems check={check} onVerdict={check.id === 'api_coverage' ? onVerdict : undefined} />}
          </section>
        )
      })}
    </div>
  )
}

function CheckBadge({ check }: { check: SectionCheck }) {
  return (
    <span className={`sec-badge ${check.status}`} data-testid={`sec-check-${check.id}`} data-status={check.status} title={check.title}>
      <span aria-hidden="true">{STATUS_ICON[check.status]}</span> {check.status}
    </span>
  )
}

/**
 * A check's items as a checklist (the problem's non-functional list, the API's coverage), folded
 * under its explanation: it is as long as the problem's list, and the section stays in view.
 */
function CheckItems({ check, onVerdict }: { check: SectionCheck; onVerdict?: OnVerdict }) {
  if (check.items.length === 0) return check.explanation ? <p className={`sec-explain ${check.status}`}>{check.explanation}</p> : null
  return (
    <details className="sec-checklist" data-testid={`sec-checklist-${check.id}`}>
      <summary className={`sec-explain ${check.status}`}>{check.explanation || check.title}</summary>
      <ul className="sec-items" aria-label={check.title}>
        {check.items.map((i, n) => (
          <li key={n} className={i.status} data-status={i.status}>
            <span className="sec-icon" aria-hidden="true">
              {STATUS_ICON[i.status]}
            </span>
            <span>
              <strong>{i.name}</strong> {i.explanation && <span className="muted">{i.explanation}</span>}
              {check.id === 'api_coverage' && (i.override || onVerdict) && (
                <>
                  {' '}
                  <ApiVerdict item={i} onVerdict={onVerdict} />
                </>
              )}
            </span>
          </li>
        ))}
      </ul>
    </details>
  )
}

/** The check of one estimate or entity, beside it. */
function RowCheck({ check, name }: { check: SectionCheck | null; name: string }) {
  const item = itemFor(check, name)
  if (!item) return null
  return (
    <p className={`sec-row-check ${item.status}`} data-testid="row-check" data-status={item.status}>
      <span className="sec-icon" aria-hidden="true">
        {STATUS_ICON[item.status]}
      </span>{' '}
      {item.explanation}
    </p>
  )
}

function Labelled({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="sec-labelled">
      <span className="sec-label" aria-hidden="true">
        {label}
      </span>
      {children}
    </div>
  )
}

function EntryList(props: {
  doc: Y.Doc
  listKey: ListKey
  rows: { id: string; name?: string }[]
  readOnly: boolean
  /** The section's check already says the list is empty ("no estimates yet"). */
  said: boolean
  noun: string
  children: (id: string, name: string) => React.ReactNode
}) {
  const { doc, listKey, rows, readOnly, said, noun } = props
  return (
    <div className="sec-list">
      {rows.length === 0 && !said && <p className="muted small">{readOnly ? `No ${noun} yet.` : `No ${noun} yet: add one.`}</p>}
      {rows.map((r, i) => (
        <div className="sec-entry" key={r.id || i} data-testid={`sec-${noun}`} data-id={r.id}>
          {!readOnly && (
            <button
              type="button"
              className="icon-btn sec-remove"
              onClick={() => removeEntry(doc, listKey, r.id)}
              aria-label={`Remove this ${noun}${r.name ? ` (${r.name})` : ''}`}
              title={`Remove this ${noun}`}
            >
              ×
            </button>
          )}
          {props.children(r.id, r.name ?? '')}
        </div>
      ))}
      {!readOnly && (
        <button type="button" className="sec-add" onClick={() => addEntry(doc, listKey)}>
          + Add {noun}
        </button>
      )}
    </div>
  )
}

/**
 * One field of an entry. Its Y.Text is looked up (and, for an editor, created in place when the
 * field was written as a plain string) after render, and again when another client replaces it.
 * A viewer never writes: a field that is not a Y.Text is shown as plain text.
 */
function Field(props: {
  doc: Y.Doc
  listKey: ListKey
  id: string
  field: string
  label: string
  hint: string
  awareness: Awareness
  readOnly: boolean
  mono?: boolean
  multi?: boolean
  strong?: boolean
}) {
  const { doc, listKey, id, field, readOnly } = props
  const [text, setText] = useState<Y.Text | string | null>(null)
  useEffect(() => {
    const arr = listOf(doc, listKey)
    let map: Y.Map<unknown> | null = null
    arr.forEach((m) => {
      if (m instanceof Y.Map && m.get('id') === id) map = m
    })
    if (!map) return
    const m: Y.Map<unknown> = map
    const resolve = () => {
      const v = m.get(field)
      if (v instanceof Y.Text) setText(v)
      else if (!readOnly) setText(entryText(doc, listKey, id, field))
      else setText(typeof v === 'string' || typeof v === 'number' ? String(v) : '')
    }
    const onChange = (e: Y.YMapEvent<unknown>) => {
      if (e.keysChanged.has(field)) resolve()
    }
    resolve()
    m.observe(onChange)
    return () => m.unobserve(onChange)
  }, [doc, listKey, id, field, readOnly])
  const cls = `${props.mono ? 'mono' : ''} ${props.strong ? 'strong' : ''}`
  if (typeof text === 'string') return <div className={`sec-field read-only-field plain ${cls}`}>{text || '—'}</div>
  return (
    <YTextField
      text={text}
      awareness={props.awareness}
      readOnly={readOnly}
      label={props.label}
      hint={props.hint}
      singleLine={!props.multi}
      className={cls}
    />
  )
}
