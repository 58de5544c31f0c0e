/**
 * Component icons: small inline SVGs (no icon font, no network). The catalog gives each type an
 * `icon` key; keys are matched to a glyph by keyword, then by the component's family.
 */
import { memo } from 'react'

type Glyph = { paths: string[] }

const G: Record<string, Glyph> = {
  client: { paths: ['M3 5h18v11H3z', 'M8 20h8', 'M12 16v4'] },
  mobile: { paths: ['M7 2h10v20H7z', 'M11 18h2'] },
  server: { paths: ['M4 4h16v6H4z', 'M4 14h16v6H4z', 'M8 7h.01', 'M8 17h.01'] },
  database: {
    paths: [
      'M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3z',
      'M4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6',
      'M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3',
    ],
  },
  cache: { paths: ['M13 2 4 14h7l-1 8 9-12h-7z'] },
  queue: { paths: ['M3 7h4v10H3z', 'M10 7h4v10h-4z', 'M17 7h4v10h-4z'] },
  balancer: { paths: ['M12 3v6', 'M12 9 5 15', 'M12 9l7 6', 'M12 9v6', 'M3 15h4v5H3z', 'M10 15h4v5h-4z', 'M17 15h4v5h-4z'] },
  globe: {
    paths: ['M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z', 'M3 12h18', 'M12 3c2.5 2.5 3.5 6 3.5 9s-1 6.5-3.5 9c-2.5-2.5-3.5-6-3.5-9s1-6.5 3.5-9z'],
  },
  cloud: { paths: ['M7 18h10a4 4 0 0 0 0-8 6 6 0 0 0-11.6 1.5A3.3 3.3 0 0 0 7 18z'] },
  storage: { paths: ['M3 7l9-4 9 4-9 4z', 'M3 7v10l9 4 9-4V7', 'M12 11v10'] },
  chart: { paths: ['M4 20V10', 'M10 20V4', 'M16 20v-7', 'M22 20H2'] },
  shield: { paths: ['M12 3 4 6v6c0 5 3.5 8 8 9 4.5-1 8-4 8-9V6z', 'M9 12l2 2 4-4'] },
  search: { paths: ['M11 4a7 7 0 1 0 0 14 7 7 0 0 0 0-14z', 'M21 21l-5-5'] },
  stream: { paths: ['M3 8c3 0 3-3 6-3s3 3 6 3 3-3 6-3', 'M3 14c3 0 3-3 6-3s3 3 6 3 3-3 6-3', 'M3 20c3 0 3-3 6-3s3 3 6 3 3-3 6-3'] },
  gear: {
    paths: [
      'M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6z',
      'M12 2v3',
      'M12 19v3',
      'M2 12h3',
      'M19 12h3',
      'M4.9 4.9 7 7',
      'M17 17l2.1 2.1',
      'M4.9 19.1 7 17',
      'M17 7l2.1-2.1',
    ],
  },
  function: { paths: ['M9 20c2 0 3-2 3-4V8c0-2 1-4 3-4', 'M7 11h8'] },
  note: { paths: ['M5 3h10l4 4v14H5z', 'M15 3v4h4', 'M8 12h8', 'M8 16h6'] },
  gateway: { paths: ['M4 12h16', 'M14 6l6 6-6 6', 'M4 5v14'] },
  ai: { paths: ['M12 3l2 5 5 2-5 2-2 5-2-5-5-2 5-2z', 'M19 16l1 2 2 1-2 1-1 2-1-2-2-1 2-1z'] },
  network: {
    paths: [
      'M12 3a2 2 0 1 0 0 4 2 2 0 0 0 0-4z',
      'M5 17a2 2 0 1 0 0 4 2 2 0 0 0 0-4z',
      'M19 17a2 2 0 1 0 0 4 2 2 0 0 0 0-4z',
      'M12 7v5',
      'M12 12l-6 5',
      'M12 12l6 5',
    ],
  },
}

/** The icon keys of problems/catalog.toml, by the glyph that draws them. */
const ICON_KEYS: Record<string, string> = {
  cpu: 'server',
  server: 'server',
  sparkles: 'ai',
  chart: 'chart',
  activity: 'stream',
  bolt: 'cache',
  database: 'database',
  network: 'network',
  globe: 'globe',
  shield: 'shield',
  door: 'gateway',
  user: 'client',
  scale: 'balancer',
  inbox: 'queue',
  archive: 'storage',
  search: 'search',
  cog: 'gear',
  note: 'note',
}

const KEYWORDS: [RegExp, string][] = [
  [/note/, 'note'],
  [/mobile|phone|ios|android/, 'mobile'],
  [/client|browser|user|web_?app|desktop|monitor/, 'client'],
  [/lb|balanc/, 'balancer'],
  [/gateway|proxy|api_gw|router|ingress/, 'gateway'],
  [/cdn|dns|edge|globe|network|region/, 'globe'],
  [/cache|redis|memcache|bolt|zap/, 'cache'],
  [/search|elastic|index/, 'search'],
  [/stream|kafka|kinesis|pubsub|event|wave/, 'stream'],
  [/queue|mq|sqs|broker|message|bus/, 'queue'],
  [/s3|blob|object|bucket|storage|file|hdfs|archive|box/, 'storage'],
  [/db|database|sql|dynamo|cassandra|mongo|replica|store|warehouse|ledger|cylinder/, 'database'],
  [/lambda|function|serverless/, 'function'],
  [/ml|model|ai|gpu|inference|sparkle/, 'ai'],
  [/metric|monitor|log|trace|observ|analytic|chart|dashboard/, 'chart'],
  [/auth|security|waf|firewall|shield|secret|iam|lock/, 'shield'],
  [/cloud/, 'cloud'],
  [/app|server|service|worker|compute|api|backend|host|vm|container|pod|cpu/, 'server'],
]

const FAMILY: Record<string, string> = {
  compute: 'server',
  storage: 'database',
  cache: 'cache',
  messaging: 'queue',
  network: 'globe',
  edge: 'globe',
  observability: 'chart',
  security: 'shield',
  client: 'client',
  specialised: 'gear',
  specialized: 'gear',
}

export function glyphName(icon: string | undefined, type: string, family?: string): string {
  const known = ICON_KEYS[(icon ?? '').toLowerCase()]
  if (known) return known
  for (const key of [icon ?? '', type]) {
    const k = key.toLowerCase()
    if (G[k]) return k
    for (const [re, g] of KEYWORDS) if (re.test(k)) return g
  }
  return FAMILY[(family ?? '').toLowerCase()] ?? 'gear'
}

/** The path data of a component's glyph (24 × 24, stroked), for drawings outside React (exports). */
export function glyphPaths(icon: string | undefined, type: string, family?: string): string[] {
  return G[glyphName(icon, type, family)].paths
}

export const ComponentIcon = memo(function ComponentIcon(props: { icon?: string; type: string; family?: string; size?: number }) {
  const g = G[glyphName(props.icon, props.type, props.family)]
  const s = props.size ?? 20
  return (
    <svg
      width={s}
      height={s}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {g.paths.map((d) => (
        <path key={d} d={d} />
      ))}
    </svg>
  )
})

const FAMILY_COLORS: Record<string, string> = {
  compute: '#2563eb',
  storage: '#16a34a',
  cache: '#dc2626',
  messaging: '#9333ea',
  network: '#0891b2',
  edge: '#0e7490',
  observability: '#d97706',
  security: '#be123c',
  client: '#475569',
  specialised: '#7c3aed',
  specialized: '#7c3aed',
  annotation: '#ca8a04',
  note: '#ca8a04',
}

/** The colour of a component family (icon tiles, minimap). */
export function familyColor(family: string | undefined): string {
  return FAMILY_COLORS[(family ?? '').toLowerCase()] ?? '#64748b'
}
