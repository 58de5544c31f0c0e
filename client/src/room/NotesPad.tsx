/** The notes pad: CodeMirror 6 bound to the document's `notes` text, with remote carets. */
import { useEffect, useRef } from 'react'
import { EditorState } from '@codemirror/state'
import { EditorView, drawSelection, highlightActiveLine, keymap, placeholder } from '@codemirror/view'
import { defaultKeymap } from '@codemirror/commands'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import * as Y from 'yjs'
import type { Awareness } from 'y-protocols/awareness'
import { NotesAwareness } from '../presence'
import { LOCAL_ORIGIN, root } from '../schema'

/** The longest stretch of steady typing that one undo takes back. */
const STEP_MS = 3000

export function NotesPad(props: { doc: Y.Doc; awareness: Awareness; readOnly: boolean }) {
  const host = useRef<HTMLDivElement>(null)
  const { doc, awareness, readOnly } = props
  useEffect(() => {
    const ytext = root(doc).notes
    // Undo in the notes reverts only this tab's typing (y-codemirror's origin and ours).
    const undoManager = new Y.UndoManager(ytext, { trackedOrigins: new Set([LOCAL_ORIGIN]) })
    // Undo steps end at a pause (the manager's 500 ms), and also at the end of a line or sentence and
    // after a few seconds of steady typing: one Ctrl+Z used to take back a whole paragraph.
    let stepStarted = Date.now()
    const groupTyping = EditorView.updateListener.of((u) => {
      if (!u.docChanged) return
      let typed = ''
      u.changes.iterChanges((_fa, _ta, _fb, _tb, inserted) => (typed += inserted.toString()))
      const now = Date.now()
      if (/[\n.!?;]\s*$/.test(typed) || now - stepStarted > STEP_MS) {
        undoManager.stopCapturing()
        stepStarted = now
      }
    })
    const view = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: ytext.toString(),
        extensions: [
          // Undo/redo through the Yjs undo manager (own typing only), not CodeMirror's history.
          keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
          drawSelection(),
          highlightActiveLine(),
          placeholder(readOnly ? 'No notes yet.' : 'Write requirements, estimates, open questions…'),
          EditorView.lineWrapping,
          EditorState.readOnly.of(readOnly),
          EditorView.editable.of(!readOnly),
          EditorView.contentAttributes.of({ 'aria-label': 'Shared notes' }),
          yCollab(ytext, new NotesAwareness(awareness), { undoManager }),
          groupTyping,
        ],
      }),
    })
    return () => {
      view.destroy()
      undoManager.destroy()
    }
  }, [doc, awareness, readOnly])
  return (
    <div className="notes">
      <p className="muted small">
        {readOnly
          ? 'View only: you can read the notes but not change them (the edit link can).'
          : 'Requirements, estimates, open questions: shared with everyone in the room.'}
      </p>
      <div ref={host} className={`notes-editor ${readOnly ? 'read-only-field' : ''}`} />
    </div>
  )
}
