/**
 * Checking a tutorial checkpoint's answer (issue 21 item 3). A numeric answer is accepted within the
 * precision the checkpoint states it in: half a unit of its last digit ("99.7" takes 99.65–99.75,
 * "34" takes exactly 34), widened to 2% for estimates of three or more digits ("11250" takes
 * 11,025–11,475), because back-of-envelope figures are rounded differently by everyone. Written
 * answers ("To persist data permanently") are accepted when most of their key words are there.
 */

export type Verdict = { ok: true } | { ok: false; reason: 'empty' | 'wrong' | 'not-a-number' }

const MULTIPLIERS: Record<string, number> = { k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12 }

/**
 * A number as people write it: "11,250", "11.25k", "~750 GB", "99.7%", "$225,000/month". Returns
 * null when the text holds no number.
 */
export function parseNumber(text: string): number | null {
  const m = /(-?\d[\d,_ ]*(?:\.\d+)?|-?\.\d+)\s*([kmbgt](?![a-z]))?/i.exec(text.replace(/(\d)\s+(?=\d{3}\b)/g, '$1'))
  if (!m) return null
  const n = Number(m[1].replace(/[,_ ]/g, ''))
  if (!Number.isFinite(n)) return null
  // "1KB", "750 GB" are units of the figure, not multipliers: only a lone k/M/B multiplies.
  const mult = m[2] ? MULTIPLIERS[m[2].toLowerCase()] : 1
  return n * mult
}

/** The tolerance a numeric answer implies (see the module comment). */
export function toleranceOf(answer: string): number {
  const digits = answer.replace(/[^\d.]/g, '')
  const decimals = digits.includes('.') ? digits.split('.')[1].length : 0
  const half = 0.5 * 10 ** -decimals
  const value = Math.abs(parseNumber(answer) ?? 0)
  const significant = digits.replace('.', '').replace(/^0+/, '').length
  return significant >= 3 && value >= 100 ? Math.max(half, value * 0.02) : half
}

const STOP = new Set(['the', 'and', 'for', 'with', 'that', 'this', 'from', 'into', 'their', 'they', 'have', 'what', 'when'])

function keyWords(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length >= 4 && !STOP.has(w))
}

/** Whether `answer` (the learner's) matches the checkpoint's `expected` answer. */
export function check(expected: string, answer: string): Verdict {
  if (!answer.trim()) return { ok: false, reason: 'empty' }
  const want = parseNumber(expected)
  if (want !== null && /^[\s\d.,~$%kmbgt]+$/i.test(expected.trim())) {
    const got = parseNumber(answer)
    if (got === null) return { ok: false, reason: 'not-a-number' }
    // A percentage may be given as a fraction (0.997 for 99.7%).
    const candidates = expected.includes('.') && got < 1 ? [got, got * 100] : [got]
    const tol = toleranceOf(expected) + 1e-9
    return candidates.some((g) => Math.abs(g - want) <= tol) ? { ok: true } : { ok: false, reason: 'wrong' }
  }
  const words = keyWords(expected)
  if (words.length === 0)
    return answer.trim().toLowerCase() === expected.trim().toLowerCase() ? { ok: true } : { ok: false, reason: 'wrong' }
  const given = new Set(keyWords(answer).map((w) => w.slice(0, 5)))
  const hits = words.filter((w) => given.has(w.slice(0, 5))).length
  return hits * 2 >= words.length ? { ok: true } : { ok: false, reason: 'wrong' }
}
