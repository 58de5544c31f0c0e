import { describe, expect, it } from 'vitest'
import { parseServerMessage } from '../../protocol'
import { checkFor, itemFor, parseSectionChecks, sectionsOfPhase } from './checks'

// As the server sends it (docs/PROTOCOL.md §2, server/src/sections.rs).
const MESSAGE = JSON.stringify({
  type: 'section_checks',
  result: {
    checks: [
      {
        id: 'estimates',
        title: 'Estimates against the problem',
        status: 'pass',
        explanation: '1 of 1 estimates pass',
        items: [
          {
            name: 'peak requests',
            status: 'pass',
            explanation:
              "your peak requests: 9,000/s; the problem's stated peak: 10,000/s (targets.peak_rate_per_sec): 1.11× apart, within 2×",
          },
        ],
      },
      { id: 'non_functional', title: 'Non-functional', status: 'info', explanation: 'none yet', items: [] },
      {
        id: 'api_coverage',
        title: 'API',
        status: 'fail',
        explanation: '0 of 2',
        items: [
          { name: 'upload', status: 'fail', explanation: 'no endpoint' },
          {
            name: 'share',
            status: 'pass',
            explanation: 'covered by the host (Hana); the matching said: no endpoint',
            override: { covered: true, by: 'Hana', at: 1_800_000_000_000 },
          },
          { name: 'tag', status: 'fail', explanation: 'no endpoint', override: { covered: 'maybe' } },
        ],
      },
      {
        id: 'data_model_keys',
        title: 'Keys',
        status: 'fail',
        explanation: '1 entity without a key',
        items: [{ name: 'Image', status: 'fail', explanation: 'no key' }],
      },
      { id: 'future_check', title: '?', status: 'pass', explanation: '', items: [] },
    ],
  },
})

describe('section_checks', () => {
  it('is parsed as a server message, unknown checks and statuses dropped or read as info', () => {
    const m = parseServerMessage(MESSAGE)
    expect(m?.type).toBe('section_checks')
    if (m?.type !== 'section_checks') return
    expect(m.result.checks.map((c) => c.id)).toEqual(['estimates', 'non_functional', 'api_coverage', 'data_model_keys'])
    expect(m.result.checks[0].items[0].status).toBe('pass')
    expect(parseSectionChecks({ checks: [{ id: 'estimates', status: 'weird', items: 'x' }] })).toEqual({
      checks: [{ id: 'estimates', title: '', status: 'info', explanation: '', items: [] }],
    })
    expect(parseServerMessage('{"type":"section_checks","result":{}}')).toBeNull()
    expect(parseServerMessage('{"type":"section_checks"}')).toBeNull()
    // The host's verdict on an API item; a malformed one is dropped.
    const api = m.result.checks[2].items
    expect(api[0].override).toBeUndefined()
    expect(api[1].override).toEqual({ covered: true, by: 'Hana', at: 1_800_000_000_000 })
    expect(api[2].override).toBeUndefined()
  })

  it('puts each check beside its section and each item beside its entry', () => {
    const checks = parseSectionChecks(JSON.parse(MESSAGE).result)
    expect(checkFor(checks, 'req_functional')).toBeNull()
    expect(checkFor(checks, 'req_nonfunctional')?.id).toBe('non_functional')
    expect(checkFor(checks, 'api')?.id).toBe('api_coverage')
    expect(checkFor(checks, 'data_model')?.id).toBe('data_model_keys')
    expect(checkFor(null, 'estimates')).toBeNull()
    const est = checkFor(checks, 'estimates')
    expect(itemFor(est, '  peak requests ')?.status).toBe('pass')
    expect(itemFor(est, 'storage')).toBeNull()
    expect(itemFor(checkFor(checks, 'data_model'), 'Image')?.explanation).toBe('no key')
  })

  it('points an interview phase at its sections', () => {
    expect(sectionsOfPhase('requirements')).toEqual(['req_functional', 'req_nonfunctional'])
    expect(sectionsOfPhase('estimates')).toEqual(['estimates'])
    expect(sectionsOfPhase('api_and_data_model')).toEqual(['api', 'data_model'])
    expect(sectionsOfPhase('high_level_design')).toEqual([])
    expect(sectionsOfPhase(null)).toEqual([])
  })
})
