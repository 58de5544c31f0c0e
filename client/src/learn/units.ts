/**
 * Units of a problem's constants. The file format types a constant (`integer`, `float` ...) but states
 * its unit only in the name (`cache_ttl_ms`, `storage_per_year_tb`, `peak_rps`), so the unit is read
 * from the name's suffix; figures are shown with digit grouping so that 87000 reads as 87,000.
 */

const SUFFIXES: [RegExp, string][] = [
  [/_(per_sec|per_second|rps|qps|tps|per_s)$/, 'per second'],
  [/_per_(min|minute)$/, 'per minute'],
  [/_per_(hour|hr)$/, 'per hour'],
  [/_per_day$/, 'per day'],
  [/_(ms|millis|milliseconds)$/, 'ms'],
  [/_(us|micros)$/, 'µs'],
  [/_(sec|secs|seconds|s)$/, 's'],
  [/_(min|minutes)$/, 'min'],
  [/_(hours|hrs|h)$/, 'h'],
  [/_days$/, 'days'],
  [/_(pct|percent)$/, '%'],
  [/_bytes$/, 'bytes'],
  [/_kb$/, 'KB'],
  [/_mb$/, 'MB'],
  [/_gb$/, 'GB'],
  [/_tb$/, 'TB'],
  [/_pb$/, 'PB'],
  [/_(gbps)$/, 'Gbit/s'],
  [/_(mbps)$/, 'Mbit/s'],
  [/_(usd|dollars)$/, 'USD'],
]

/** The unit a constant's name implies, or '' when it names none. */
export function unitOf(name: string): string {
  const n = name.toLowerCase()
  for (const [re, unit] of SUFFIXES) if (re.test(n)) return unit
  return ''
}

/** A figure as a reader expects it: digit grouping, at most 4 decimals, booleans as yes/no. */
export function formatValue(v: unknown): string {
  if (typeof v === 'number' && Number.isFinite(v)) return v.toLocaleString('en-US', { maximumFractionDigits: 4 })
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  return String(v ?? '')
}
