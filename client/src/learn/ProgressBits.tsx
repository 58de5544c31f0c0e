/**
 * Progress and offers in the problem browser (issue 21 items 5-6): a progress ring per card, chips
 * saying what a problem offers (tutorial, checkpoints, hints, reference, analysis), and export /
 * import of this browser's progress as a file.
 */
import { useRef, useState } from 'react'
import type { Offers } from '../api'
import { exportProgress, importProgress, statusOf, type ProblemProgress } from './progress'

export function ProgressRing({ progress }: { progress: ProblemProgress | undefined }) {
  const status = statusOf(progress)
  if (status === 'not-started' || !progress) return null
  const parts = progress.tiers + progress.checkpointCount
  const done = Math.min(progress.bestTier, progress.tiers) + Math.min(progress.checkpoints.length, progress.checkpointCount)
  const frac = parts > 0 ? done / parts : 0
  const c = 2 * Math.PI * 9
  const label =
    status === 'done'
      ? 'Done'
      : `In progress: ${progress.bestTier} of ${progress.tiers} tiers, ${progress.checkpoints.length} of ${progress.checkpointCount} checkpoints, ${progress.hintsUsed} hints used`
  return (
    <span className={`ring ${status}`} role="img" aria-label={label} title={label} data-testid="progress-ring">
      <svg width="24" height="24" viewBox="0 0 24 24" aria-hidden="true">
        <circle cx="12" cy="12" r="9" className="ring-track" />
        <circle cx="12" cy="12" r="9" className="ring-fill" strokeDasharray={`${frac * c} ${c}`} transform="rotate(-90 12 12)" />
        {status === 'done' && (
          <text x="12" y="16" textAnchor="middle">
            ✓
          </text>
        )}
      </svg>
    </span>
  )
}

export function OfferChips({ offers }: { offers: Offers | undefined }) {
  if (!offers) return null
  const chips: string[] = []
  if (offers.tutorial) chips.push(offers.checkpoints ? `Tutorial · ${offers.checkpoints} checkpoints` : 'Tutorial')
  if (offers.hints) chips.push(`${offers.hints} hint${offers.hints === 1 ? '' : 's'}`)
  if (offers.reference) chips.push('Reference')
  if (offers.analysis) chips.push('Analysis')
  if (chips.length === 0) return null
  return (
    <ul className="offers" aria-label="What this problem offers">
      {chips.map((c) => (
        <li key={c} className="chip small offer">
          {c}
        </li>
      ))}
    </ul>
  )
}

export function ProgressFile() {
  const input = useRef<HTMLInputElement>(null)
  const [message, setMessage] = useState<string | null>(null)
  const download = () => {
    const url = URL.createObjectURL(new Blob([exportProgress()], { type: 'application/json' }))
    const a = document.createElement('a')
    a.href = url
    a.download = 'tierboard-progress.json'
    a.click()
    setTimeout(() => URL.revokeObjectURL(url), 1000)
  }
  const load = async (file: File | undefined) => {
    if (!file) return
    try {
      const n = importProgress(await file.text())
      setMessage(`Imported progress on ${n} problem${n === 1 ? '' : 's'}.`)
    } catch (e) {
      setMessage(`Could not import: ${(e as Error).message}.`)
    }
    if (input.current) input.current.value = ''
  }
  return (
    <div className="progress-file">
      <button type="button" className="small" onClick={download}>
        Export progress
      </button>
      <button type="button" className="small" onClick={() => input.current?.click()}>
        Import progress
      </button>
      <input
        ref={input}
        type="file"
        accept="application/json,.json"
        hidden
        aria-label="Progress file"
        onChange={(e) => load(e.target.files?.[0])}
      />
      {message && (
        <p className="small muted" role="status">
          {message}
        </p>
      )}
    </div>
  )
}
