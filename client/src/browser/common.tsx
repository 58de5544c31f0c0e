/** Small pieces shared by the problem pages and the room's problem panel. */
import type { ReactNode } from 'react'

const DIFFICULTIES = ['Easy', 'Foundation', 'Intermediate', 'Advanced', 'L5-Staff', 'L6-Principal']

export function difficultyOrder(a: string, b: string): number {
  const ia = DIFFICULTIES.indexOf(a)
  const ib = DIFFICULTIES.indexOf(b)
  return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b)
}

export function DifficultyBadge({ value }: { value: string | null | undefined }) {
  if (!value) return null
  const level = Math.max(0, DIFFICULTIES.indexOf(value))
  return <span className={`chip difficulty d${level}`}>{value}</span>
}

function humanKey(k: string): string {
  return k.replace(/_/g, ' ').replace(/^\w/, (c) => c.toUpperCase())
}

/**
 * Renders a problem field whatever its shape (problems/README.md leaves room for structure):
 * text, a list, a key/value object, or a list of objects.
 */
export function AnyValue({ value }: { value: unknown }): ReactNode {
  if (value === null || value === undefined || value === '') return null
  if (typeof value === 'string') return <Paragraphs text={value} />
  if (typeof value === 'number' || typeof value === 'boolean') return <span>{String(value)}</span>
  if (Array.isArray(value)) {
    if (value.length === 0) return null
    return (
      <ul className="plain-list">
        {value.map((v, i) => (
          <li key={i}>{typeof v === 'object' && v !== null ? <AnyValue value={v} /> : String(v)}</li>
        ))}
      </ul>
    )
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined && v !== '')
    if (entries.length === 0) return null
    return (
      <dl className="kv">
        {entries.map(([k, v]) => (
          <div key={k}>
            <dt>{humanKey(k)}</dt>
            <dd>{typeof v === 'object' ? <AnyValue value={v} /> : String(v)}</dd>
          </div>
        ))}
      </dl>
    )
  }
  return null
}

/** Plain text with blank-line paragraphs and "- " bullet lines; no HTML is ever injected. */
export function Paragraphs({ text }: { text: string }) {
  const blocks = text.split(/\n{2,}/)
  return (
    <>
      {blocks.map((b, i) => {
        const lines = b.split('\n')
        if (lines.every((l) => /^\s*[-*]\s+/.test(l))) {
          return (
            <ul key={i} className="plain-list">
              {lines.map((l, j) => (
                <li key={j}>{stripMd(l.replace(/^\s*[-*]\s+/, ''))}</li>
              ))}
            </ul>
          )
        }
        return <p key={i}>{stripMd(b)}</p>
      })}
    </>
  )
}

function stripMd(s: string): string {
  return s.replace(/\*\*(.+?)\*\*/g, '$1')
}

export function Section({ title, children, id }: { title: string; children: ReactNode; id?: string }) {
  if (children === null || children === undefined || children === false) return null
  return (
    <section className="section" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  )
}

/** The hints of a problem as a list of strings, whatever shape the file gives them. */
export function hintList(hints: unknown): string[] {
  if (typeof hints === 'string') return hints.split('\n').map((s) => s.trim()).filter(Boolean)
  if (!Array.isArray(hints)) return []
  return hints
    .map((h) => {
      if (typeof h === 'string') return h
      if (h && typeof h === 'object') {
        const o = h as Record<string, unknown>
        const parts = [o.title, o.text ?? o.hint ?? o.body].filter((x) => typeof x === 'string')
        return parts.join(': ')
      }
      return ''
    })
    .filter(Boolean)
}
