/**
 * Test data shared by the unit tests: validation results (docs/PROTOCOL.md §4) as the server answers
 * them. `fixtures/validation.json` is written by `npm run fixtures` from a real server's
 * `POST /api/validate`; `npm run check` fails when it is no longer what the server answers.
 */
import type { Problem, Solution } from '../api'
import type { ValidationResult } from '../protocol'
import problems from './fixtures/problems.json'
import generated from './fixtures/validation.json'

/**
 * tutorial-simple-blog with T0 reached (client -> app -> db_primary) and T1 not, an unknown node
 * type `foo` (a design issue) and an isolated cache (an advisory). The design is in scripts/fixtures.mjs.
 */
export const VALIDATION: ValidationResult = generated.partial

/**
 * Real problems as `GET /api/problems/{id}` and `/solution` answer them (scripts/fixtures.mjs lists
 * which): together they hold every field of the problem file format.
 */
export const PROBLEMS = problems as unknown as Record<string, { problem: Problem; solution: Solution }>
