/**
 * The session report as Markdown (issue 23, "Export as Markdown"): what an interviewer pastes into
 * written feedback. Pure: report JSON in, text out.
 */
import type { Report } from './api'

/** `mm:ss` (or `h:mm:ss`) after `from`. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  const two = (n: number) => String(n).padStart(2, '0')
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${two(m)}:${two(sec)}`
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/** Base64 of a string's UTF-8 bytes (the design SVG's labels may hold any character). */
export function base64Utf8(text: string): string {
  const bytes = new TextEncoder().encode(text)
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}

/**
 * `designSvg`: the final design as the report page draws it (the canvas export's SVG); embedded as a
 * `data:` image, so the Markdown file carries its picture with it.
 */
export function reportMarkdown(r: Report, opts: { designSvg?: string } = {}): string {
  const start = r.started ?? r.created
  const out: string[] = []
  out.push(`# Session report: ${r.problem.title}`, '')
  out.push(`Room \`${r.room}\` (${r.mode}), generated ${new Date(r.generated).toISOString()}.`, '')

  out.push('## Phases', '', '| phase | planned | spent |', '|---|---|---|')
  for (const p of r.phases) out.push(`| ${cell(p.name)} | ${clock(p.planned_ms)} | ${clock(p.spent_ms)} |`)
  out.push('')

  out.push('## Tier timeline', '')
  if (r.tier_timeline.length === 0) out.push('No tier was reached.')
  for (const e of r.tier_timeline) out.push(`- ${clock(e.at - start)} ${e.tier} ${e.event}`)
  out.push('')

  const reached = r.validation.tiers.filter((t) => t.reached).length
  out.push(
    '## Final design',
    '',
    `${r.design.nodes.length} components, ${r.design.edges.length} connections; tiers reached: ${reached} of ${r.validation.tiers.length}.`,
    '',
  )
  if (opts.designSvg) out.push(`![The final design](data:image/svg+xml;base64,${base64Utf8(opts.designSvg)})`, '')
  for (const n of r.design.nodes) out.push(`- ${cell(n.label || n.id)} (${n.type})`)
  out.push('')

  const s = r.sections
  out.push('## Requirements', '', '### Functional', '')
  for (const l of s.functional) out.push(`- ${l}`)
  out.push('', '### Non-functional', '')
  for (const l of s.non_functional) out.push(`- ${l}`)
  out.push('', '## Estimates', '', '| name | value | unit | arithmetic |', '|---|---|---|---|')
  for (const e of s.estimates) out.push(`| ${cell(e.name)} | ${cell(e.value)} | ${cell(e.unit)} | ${cell(e.arithmetic)} |`)
  out.push('', '## API', '', '| method | path | request | response |', '|---|---|---|---|')
  for (const e of s.api) out.push(`| ${cell(e.method)} | ${cell(e.path)} | ${cell(e.request)} | ${cell(e.response)} |`)
  out.push('', '## Data model', '', '| entity | fields | keys | indexes | partitioning |', '|---|---|---|---|---|')
  for (const e of s.data_model)
    out.push(`| ${cell(e.name)} | ${cell(e.fields)} | ${cell(e.keys)} | ${cell(e.indexes)} | ${cell(e.partitioning)} |`)
  out.push('', '## Checks', '')
  for (const c of r.section_checks.checks) {
    out.push(`- **${c.title}**: ${c.status} (${c.explanation})`)
    for (const i of c.items) {
      // The explanation says it too; the marker makes the host's verdicts easy to find.
      const verdict = i.override ? ` **[host: ${i.override.covered ? 'covered' : 'not covered'}, ${i.override.by}]**` : ''
      out.push(`  - ${i.status === 'pass' ? '✓' : i.status === 'fail' ? '✗' : '·'} ${i.name}: ${i.explanation}${verdict}`)
    }
  }
  out.push('')

  const sc = r.scorecard
  out.push('## Scorecard', '', `Scale ${sc.scale.min}–${sc.scale.max} (${sc.scale.labels.join(', ')}).`, '')
  out.push('| dimension | score | comment |', '|---|---|---|')
  for (const d of sc.dimensions) out.push(`| ${cell(d.title)} | ${d.score ?? '–'} | ${cell(d.comment)} |`)
  out.push('')
  if (sc.recommendation) out.push(`Recommendation: **${sc.recommendation.replace(/_/g, ' ')}**`, '')
  if (sc.summary) out.push(sc.summary, '')
  if (r.notes) out.push('## Interviewer notes', '', r.notes, '')
  return out.join('\n')
}
