/**
 * A learner's progress, kept per browser in localStorage (issue 21 item 5; no account): per problem
 * the best tier reached, how many hints were revealed, which checkpoints were passed. It can be
 * exported to a file and imported back (merged: the better of both records wins field by field).
 */
import { useSyncExternalStore } from 'react'

export const STORAGE_KEY = 'tierboard.progress.v1'
const FORMAT = 'tierboard-progress'

export interface ProblemProgress {
  /** The problem's title when last seen, so that the browser can list started problems offline. */
  title?: string
  /** Tiers reached at best (0 = none yet), out of `tiers`. */
  bestTier: number
  tiers: number
  hintsUsed: number
  /** Indexes of the tutorial checkpoints answered right. */
  checkpoints: number[]
  checkpointCount: number
  updated: number
}

export type Progress = Record<string, ProblemProgress>
export type Status = 'not-started' | 'in-progress' | 'done'

const EMPTY: ProblemProgress = { bestTier: 0, tiers: 0, hintsUsed: 0, checkpoints: [], checkpointCount: 0, updated: 0 }

function nat(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0
}

/** One record read leniently: whatever another version or a hand-edited file holds never throws. */
function clean(v: unknown): ProblemProgress | null {
  if (!v || typeof v !== 'object') return null
  const o = v as Record<string, unknown>
  const cps = Array.isArray(o.checkpoints) ? [...new Set(o.checkpoints.map(nat))].sort((a, b) => a - b) : []
  return {
    ...(typeof o.title === 'string' ? { title: o.title.slice(0, 300) } : {}),
    bestTier: nat(o.bestTier),
    tiers: nat(o.tiers),
    hintsUsed: nat(o.hintsUsed),
    checkpoints: cps,
    checkpointCount: nat(o.checkpointCount),
    updated: nat(o.updated),
  }
}

export function parseProgress(v: unknown): Progress {
  const out: Progress = {}
  if (!v || typeof v !== 'object') return out
  for (const [id, rec] of Object.entries(v as Record<string, unknown>)) {
    const c = clean(rec)
    if (c && /^[a-z0-9-]+$/.test(id)) out[id] = c
  }
  return out
}

export function statusOf(p: ProblemProgress | undefined): Status {
  // Any record means the learner has opened a room, revealed a hint or answered a checkpoint.
  if (!p) return 'not-started'
  const tiersDone = p.tiers > 0 && p.bestTier >= p.tiers
  const checksDone = p.checkpointCount === 0 || p.checkpoints.length >= p.checkpointCount
  return tiersDone && checksDone ? 'done' : 'in-progress'
}

/** The better of two records, field by field. */
export function mergeRecord(a: ProblemProgress, b: ProblemProgress): ProblemProgress {
  const title = b.title ?? a.title
  return {
    ...(title ? { title } : {}),
    bestTier: Math.max(a.bestTier, b.bestTier),
    tiers: Math.max(a.tiers, b.tiers),
    hintsUsed: Math.max(a.hintsUsed, b.hintsUsed),
    checkpoints: [...new Set([...a.checkpoints, ...b.checkpoints])].sort((x, y) => x - y),
    checkpointCount: Math.max(a.checkpointCount, b.checkpointCount),
    updated: Math.max(a.updated, b.updated),
  }
}

export function mergeProgress(a: Progress, b: Progress): Progress {
  const out: Progress = { ...a }
  for (const [id, rec] of Object.entries(b)) out[id] = out[id] ? mergeRecord(out[id], rec) : rec
  return out
}

// ---- the store: localStorage plus subscribers (other tabs arrive through the storage event) ----

const listeners = new Set<() => void>()
let cache: { raw: string | null; value: Progress } = { raw: null, value: {} }

function readRaw(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY)
  } catch {
    return null
  }
}

export function loadProgress(): Progress {
  const raw = readRaw()
  if (raw !== cache.raw) {
    let value: Progress = {}
    try {
      value = raw ? parseProgress(JSON.parse(raw)) : {}
    } catch {
      console.warn('tierboard: stored progress is not JSON; starting afresh')
    }
    cache = { raw, value }
  }
  return cache.value
}

function save(p: Progress) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(p))
  } catch (e) {
    console.warn('tierboard: progress not saved', e)
  }
  listeners.forEach((l) => l())
}

/** Records what was just achieved on a problem; only ever improves the stored record. */
export function recordProgress(id: string, update: Partial<Omit<ProblemProgress, 'updated'>>) {
  const all = loadProgress()
  const before = all[id] ?? EMPTY
  const next = mergeRecord(before, { ...EMPTY, ...update, checkpoints: update.checkpoints ?? [], updated: Date.now() })
  const same =
    next.bestTier === before.bestTier &&
    next.tiers === before.tiers &&
    next.hintsUsed === before.hintsUsed &&
    next.checkpoints.length === before.checkpoints.length &&
    next.checkpointCount === before.checkpointCount &&
    next.title === before.title
  if (same && all[id]) return
  save({ ...all, [id]: next })
}

export function importProgress(text: string): number {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw new Error('the file is not JSON')
  }
  const o = v as { format?: unknown; problems?: unknown }
  if (!o || o.format !== FORMAT) throw new Error(`the file is not a tierboard progress export (no "format": "${FORMAT}")`)
  const incoming = parseProgress(o.problems)
  save(mergeProgress(loadProgress(), incoming))
  return Object.keys(incoming).length
}

export function exportProgress(): string {
  return `${JSON.stringify({ format: FORMAT, version: 1, exported: new Date().toISOString(), problems: loadProgress() }, null, 2)}\n`
}

function subscribe(l: () => void) {
  listeners.add(l)
  const onStorage = (e: StorageEvent) => e.key === STORAGE_KEY && l()
  window.addEventListener('storage', onStorage)
  return () => {
    listeners.delete(l)
    window.removeEventListener('storage', onStorage)
  }
}

export function useProgress(): Progress {
  return useSyncExternalStore(subscribe, loadProgress, () => ({}))
}
