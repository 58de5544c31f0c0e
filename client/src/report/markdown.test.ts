import { describe, expect, it } from 'vitest'
import type { Report } from './api'
import { base64Utf8, clock, reportMarkdown } from './markdown'
import { designImage } from './designImage'
import { Catalog } from '../catalog'

const report: Report = {
  room: 'r1',
  mode: 'interview',
  created: 1_000,
  generated: 1_000_000,
  shared: false,
  include_notes: false,
  problem: { id: 'p', title: 'Blog', summary: '', functional_requirements: [] },
  participants: [],
  started: 2_000,
  ended: 600_000,
  phases: [{ name: 'requirements', planned_ms: 300_000, spent_ms: 312_000, started: 2_000 }],
  tier_timeline: [
    { at: 62_000, tier: 'T0', event: 'reached' },
    { at: 122_000, tier: 'T0', event: 'lost' },
  ],
  capacity: [],
  components: [],
  design: { nodes: [{ id: 'a', type: 'app', label: 'App', x: 0, y: 0, params: {} }], edges: [] },
  validation: { problem: 'p', reached: 0, tiers: [], design_issues: [], advisories: [] } as unknown as Report['validation'],
  sections: {
    functional: ['Read posts'],
    non_functional: ['p99 < 200 ms'],
    estimates: [{ id: 'e', name: 'peak', value: '1,000', unit: '/s', arithmetic: '10k | 10' }],
    api: [],
    data_model: [],
  },
  section_checks: {
    checks: [
      { id: 'estimates', title: 'Estimates', status: 'pass', explanation: 'all 1 hold', items: [] },
      {
        id: 'api_coverage',
        title: 'API covers the functional requirements',
        status: 'pass',
        explanation: 'all 1 hold',
        items: [
          {
            name: 'Read posts',
            status: 'pass',
            explanation: 'covered by the host (Hana); the matching said: no endpoint names any of read, post',
            override: { covered: true, by: 'Hana', at: 5_000 },
          },
        ],
      },
    ],
  },
  revealed_hints: [],
  host_actions: [],
  scorecard: {
    scale: { min: 1, max: 4, labels: ['poor', 'fair', 'good', 'excellent'] },
    dimensions: [{ id: 'estimation', title: 'Estimation', criteria: '', score: 4, comment: 'sharp', evidence: [] }],
    summary: 'Solid.',
    recommendation: 'strong_hire',
    api_overrides: {},
  },
  notes: null,
  history: { rows: 0, bytes: 0 },
  replay_start: null,
}

describe('report markdown', () => {
  it('formats clock offsets', () => {
    expect(clock(61_000)).toBe('01:01')
    expect(clock(3_661_000)).toBe('1:01:01')
  })

  it('holds the timeline, the sections and the scorecard', () => {
    const md = reportMarkdown(report)
    expect(md).toContain('- 01:00 T0 reached')
    expect(md).toContain('- 02:00 T0 lost')
    expect(md).toContain('| peak | 1,000 | /s | 10k \\| 10 |')
    expect(md).toContain('| Estimation | 4 | sharp |')
    expect(md).toContain('Recommendation: **strong hire**')
    expect(md).not.toContain('Interviewer notes')
    expect(md).toContain('Read posts: covered by the host (Hana)')
    expect(md).toContain('**[host: covered, Hana]**')
  })

  it('embeds the final design as an SVG image', () => {
    const svg = designImage(report.design, new Catalog([]))
    const md = reportMarkdown(report, { designSvg: svg })
    const m = /!\[The final design\]\(data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)\)/.exec(md)
    expect(m).not.toBeNull()
    const decoded = new TextDecoder().decode(Uint8Array.from(atob(m![1]), (c) => c.charCodeAt(0)))
    expect(decoded).toBe(svg)
    expect(decoded.match(/class="tb-node"/g)).toHaveLength(1)
    expect(base64Utf8('→ é')).toBe(btoa(String.fromCharCode(...new TextEncoder().encode('→ é'))))
    expect(reportMarkdown(report)).not.toContain('data:image')
  })
})
