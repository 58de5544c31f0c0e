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

/**
 * Lists of `{name, text}` (non-functional requirements) or `{name, value, unit?}` (constants)
 * read best as a table: returns them as one name → text object, or null for other lists.
 */
export function namedPairs(list: unknown[]): Record<string, string> | null {
  const out: Record<string, string> = {}
  for (const item of list) {
    if (!item || typeof item !== 'object') return null
    const o = item as Record<string, unknown>
    if (typeof o.name !== 'string') return null
    const v = o.text ?? o.value
    if (v === undefined || v === null || typeof v === 'object') return null
    out[o.name] = typeof o.unit === 'string' && o.unit ? `${String(v)} ${o.unit}` : String(v)
  }
  return out
}

function humanKey(k: string): string {
  return k.replace(/_/g, ' ').replace(/^\w/, (c) => c.toUpperCase())
}

/**
 * Renders a problem field whatever its shape (problems/README.md leaves room for structure):
 * text, a list, a key/value object, or a list of objects.
 */
export function AnyValue({ value, rawKeys }: { value: unknown; rawKeys?: boolean }): ReactNode {
  if (value === null || value === undefined || value === '') return null
  if (typeof value === 'string') return <Paragraphs text={value} />
  if (typeof value === 'number' || typeof value === 'boolean') return <span>{String(value)}</span>
  if (Array.isArray(value)) {
    if (value.length === 0) return null
    const pairs = namedPairs(value)
    // names from the file (constants such as read_qps) are identifiers that rules refer to: keep them
    if (pairs) return <AnyValue value={pairs} rawKeys />
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
            <dt>{rawKeys ? k : humanKey(k)}</dt>
            <dd>{typeof v === 'object' ? <AnyValue value={v} /> : String(v)}</dd>
          </div>
        ))}
      </dl>
    )
  }
  return null
}

/**
 * Plain text with blank-line paragraphs, "- " bullet lines and "1. " numbered lines; no HTML is
 * ever injected (problem text is data, not markup).
 */
export function Paragraphs({ text }: { text: string }) {
  type Block = { kind: 'p' | 'ul' | 'ol'; lines: string[] }
  const blocks: Block[] = []
  for (const para of text.split(/\n{2,}/)) {
    for (const line of para.split('\n')) {
      const kind: Block['kind'] = /^\s*[-*•]\s+/.test(line) ? 'ul' : /^\s*\d+[.)]\s+/.test(line) ? 'ol' : 'p'
      const body = kind === 'ul' ? line.replace(/^\s*[-*•]\s+/, '') : kind === 'ol' ? line.replace(/^\s*\d+[.)]\s+/, '') : line
      const last = blocks.at(-1)
      if (last && last.kind === kind && (kind !== 'p' || last.lines.length > 0)) last.lines.push(body)
      else blocks.push({ kind, lines: [body] })
    }
    blocks.push({ kind: 'p', lines: [] }) // paragraph break
  }
  return (
    <>
      {blocks
        .filter((b) => b.lines.some((l) => l.trim()))
        .map((b, i) => {
          if (b.kind === 'p')
            return (
              <p key={i} className="pre-line">
                {stripMd(b.lines.join('\n'))}
              </p>
            )
          const items = b.lines.map((l, j) => <li key={j}>{stripMd(l)}</li>)
          return b.kind === 'ul' ? (
            <ul key={i} className="plain-list">
              {items}
            </ul>
          ) : (
            <ol key={i} className="plain-list">
              {items}
            </ol>
          )
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
  if (typeof hints === 'string')
    return hints
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean)
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
