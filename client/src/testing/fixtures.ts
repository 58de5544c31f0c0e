/** Test data shared by the unit tests: a validation result shaped as docs/PROTOCOL.md §4. */
import type { ValidationResult } from '../protocol'

export const VALIDATION: ValidationResult = {
  problem: 'tutorial-simple-blog',
  reached: 1,
  tiers: [
    {
      id: 'T0',
      title: 'Basic Setup',
      passed: true,
      reached: true,
      source: 'seed',
      rules: [{ text: 'Must include: app', kind: 'include', passed: true, explanation: "found 1 node of kind app: 'App'", nodes: ['n1'] }],
    },
    {
      id: 'T1',
      title: 'High Availability',
      passed: false,
      reached: false,
      source: 'seed',
      rules: [
        {
          text: 'Minimum 2 of type: app',
          kind: 'min_count',
          passed: false,
          explanation: 'needs ≥ 2 app instances; found 1',
          nodes: ['n1'],
        },
      ],
    },
  ],
  design_issues: [{ code: 'unknown_type', message: "node 'X' has unknown type 'foo'", nodes: ['n7'], edges: [] }],
  advisories: [{ code: 'isolated_node', message: "'Cache' has no edges", nodes: ['n4'], edges: [] }],
}
