/**
 * A problem's tutorial (issue 21 item 3): the narrative, its worked calculations step by step, and
 * its checkpoint questions answered in the page and checked; a wrong answer shows the checkpoint's
 * hint. Passed checkpoints are remembered per browser (progress.ts).
 */
import { useId, useState, type FormEvent } from 'react'
import type { Checkpoint, Problem, Tutorial } from '../api'
import { check, type Verdict } from './checkpoint'
import { estimateDrills } from './estimates'
import { Markdown } from './Markdown'
import { recordProgress, useProgress } from './progress'

function steps(v: string[] | string): string[] {
  return Array.isArray(v) ? v : v.split('\n').filter((s) => s.trim())
}

export function TutorialView({ problem }: { problem: Problem }) {
  const tutorial: Tutorial = problem.tutorial ?? { text: '' }
  const problemId = problem.id
  const checkpoints = tutorial.checkpoints ?? []
  const passed = useProgress()[problemId]?.checkpoints ?? []
  return (
    <div className="tutorial" data-field="tutorial">
      <Markdown text={tutorial.text} />
      {(tutorial.calculations ?? []).map((c, i) => (
        <div className="calculation" key={i}>
          <h3>Calculation: {c.title}</h3>
          <ol>
            {steps(c.steps).map((s, j) => (
              <li key={j}>
                <Markdown text={s} />
              </li>
            ))}
          </ol>
        </div>
      ))}
      {checkpoints.length > 0 && (
        <>
          <h3>
            Checkpoints{' '}
            <span className="muted small" data-testid="checkpoint-score">
              {passed.length} of {checkpoints.length} passed
            </span>
          </h3>
          <ol className="checkpoints">
            {checkpoints.map((c, i) => (
              <CheckpointItem
                key={i}
                checkpoint={c}
                passed={passed.includes(i)}
                onPass={() =>
                  recordProgress(problemId, {
                    title: problem.title,
                    checkpoints: [i],
                    checkpointCount: checkpoints.length,
                    tiers: problem.tiers.length,
                  })
                }
              />
            ))}
          </ol>
        </>
      )}
    </div>
  )
}

export function CheckpointItem({ checkpoint, passed, onPass }: { checkpoint: Checkpoint; passed: boolean; onPass: () => void }) {
  const [value, setValue] = useState('')
  const [verdict, setVerdict] = useState<Verdict | null>(null)
  const [revealed, setRevealed] = useState(false)
  const id = useId()
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const v = check(checkpoint.answer, value)
    setVerdict(v)
    if (v.ok) onPass()
  }
  return (
    <li className={`checkpoint ${passed ? 'passed' : ''}`}>
      <form onSubmit={submit}>
        <label htmlFor={id}>
          {passed && (
            <span className="tick" aria-label="passed">
              ✓{' '}
            </span>
          )}
          {checkpoint.question}
        </label>
        <div className="checkpoint-row">
          <input id={id} value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" />
          <button type="submit">Check</button>
          <button type="button" className="link" onClick={() => setRevealed(true)}>
            Show answer
          </button>
        </div>
      </form>
      <div role="status" aria-live="polite">
        {verdict?.ok && <p className="verdict ok">Correct: {checkpoint.answer}.</p>}
        {verdict && !verdict.ok && (
          <p className="verdict wrong">
            {verdict.reason === 'empty'
              ? 'Type an answer first.'
              : verdict.reason === 'not-a-number'
                ? 'The answer is a number.'
                : 'Not quite.'}
            {checkpoint.hint && verdict.reason !== 'empty' && <span className="checkpoint-hint"> Hint: {checkpoint.hint}</span>}
          </p>
        )}
        {revealed && <p className="muted small">Answer: {checkpoint.answer}</p>}
      </div>
    </li>
  )
}

/** Where a problem has no tutorial: its key figures to work out, checked, with the arithmetic. */
export function EstimateDrills({ problem }: { problem: Problem }) {
  const drills = estimateDrills(problem)
  if (drills.length === 0) return null
  return (
    <div className="tutorial" data-testid="estimate-drills">
      <p className="muted small">This problem has no tutorial: practise its key figures instead. A wrong answer shows the arithmetic.</p>
      <ol className="checkpoints">
        {drills.map((d, i) => (
          <CheckpointItem key={i} checkpoint={d} passed={false} onPass={() => undefined} />
        ))}
      </ol>
    </div>
  )
}
