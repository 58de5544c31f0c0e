/**
 * The report's request, started as soon as the route is known (`App.tsx`), not once the report page's
 * lazy chunk has loaded: opening a report of a long session spends most of its time in that request
 * (the server replays the whole history), so it runs while the chunk loads (BENCHMARKS.md, "Replay",
 * "In the browser"). The page takes the prefetched answer once; its later reloads ask again.
 */
import { getReport, reportToken, type Report } from './api'

const pending = new Map<string, Promise<Report>>()
const started = new Set<string>()

/** Starts `GET .../report` for the room with the fragment's token, once per page load. */
export function prefetchReport(room: string, hash: string): void {
  const auth = reportToken(hash)
  if (!auth) return
  const key = `${room}#${auth.token}`
  if (started.has(key)) return
  started.add(key)
  const p = getReport(room, auth.token)
  p.catch(() => undefined) // the page reads the error when it takes the promise
  pending.set(key, p)
}

/** The prefetched report (once), or a new request. */
export function takeReport(room: string, token: string): Promise<Report> {
  const key = `${room}#${token}`
  const p = pending.get(key)
  if (p) {
    pending.delete(key)
    return p
  }
  return getReport(room, token)
}
