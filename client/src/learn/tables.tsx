/** The two tabular shapes of problem content: name → value lists and tables that scroll on a phone. */
import type { ReactNode } from 'react'

export function KeyValues({ rows, label }: { rows: { name: string; value: string }[]; label: string }) {
  if (rows.length === 0) return null
  return (
    <dl className="kv" aria-label={label}>
      {rows.map((r, i) => (
        <div key={i}>
          <dt>{r.name}</dt>
          <dd>{r.value}</dd>
        </div>
      ))}
    </dl>
  )
}

/** A table in its own horizontal scroller (focusable, so keyboard users can scroll it too). */
export function Table(props: { label: string; head: string[]; rows: ReactNode[][]; className?: string }) {
  return (
    <div className="md-scroll" tabIndex={0} role="region" aria-label={props.label}>
      <table className={props.className}>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => (
                <td key={j}>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
