/** The problem beside the canvas: goal, requirements, constants, and hints revealed one at a time. */
import { useState } from 'react'
import type { Problem } from '../api'
import { AnyValue, Paragraphs, Section, hintList } from '../browser/common'
import { Requirements } from '../browser/ProblemPage'

export function ProblemPanel({ problem }: { problem: Problem | null }) {
  const [shown, setShown] = useState(0)
  if (!problem) return <p className="muted">Loading the problem…</p>
  const hints = hintList(problem.hints)
  return (
    <div className="problem-panel">
      <h2 className="panel-title">{problem.title}</h2>
      {problem.goal && <Paragraphs text={problem.goal} />}
      <Requirements problem={problem} />
      {problem.constants != null && (
        <Section title="Constants">
          <AnyValue value={problem.constants} />
        </Section>
      )}
      {hints.length > 0 && (
        <Section title="Hints">
          <ol className="hints">
            {hints.slice(0, shown).map((h, i) => (
              <li key={i}>{h.replace(/\*\*(.+?)\*\*/g, '$1')}</li>
            ))}
          </ol>
          {shown < hints.length ? (
            <button type="button" onClick={() => setShown(shown + 1)}>
              Show hint {shown + 1} of {hints.length}
            </button>
          ) : (
            <p className="muted small">All hints shown.</p>
          )}
        </Section>
      )}
    </div>
  )
}
