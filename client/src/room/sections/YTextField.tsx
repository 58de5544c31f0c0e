/**
 * One collaborative text field of the Sections tab: CodeMirror bound to a Y.Text with the notes
 * pad's binding (y-codemirror's `yCollab` through {@link NotesAwareness}), so others' carets show
 * here as in the notes. One awareness field serves every editor: a caret is drawn only in the
 * editor whose Y.Text it points into, and only the focused editor writes it.
 */
import { useEffect, useRef } from 'react'
import { EditorState } from '@codemirror/state'
import { EditorView, drawSelection, keymap, placeholder } from '@codemirror/view'
import { defaultKeymap } from '@codemirror/commands'
import { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
import * as Y from 'yjs'
import type { Awareness } from 'y-protocols/awareness'
import { NotesAwareness } from '../../presence'
import { LOCAL_ORIGIN } from '../../schema'

export function YTextField(props: {
  /** The text to edit; null while it is being resolved (nothing is shown). */
  text: Y.Text | null
  awareness: Awareness
  readOnly: boolean
  label: string
  hint?: string
  /** A single line: Enter does not break the line. */
  singleLine?: boolean
  className?: string
}) {
  const host = useRef<HTMLDivElement>(null)
  const { text, awareness, readOnly, label, hint, singleLine } = props
  useEffect(() => {
    if (!text || !host.current) return
    const undoManager = new Y.UndoManager(text, { trackedOrigins: new Set([LOCAL_ORIGIN]) })
    const view = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: text.toString(),
        extensions: [
          keymap.of([...(singleLine ? [{ key: 'Enter', run: () => true }] : []), ...yUndoManagerKeymap, ...defaultKeymap]),
          drawSelection(),
          placeholder(readOnly ? '—' : (hint ?? '')),
          EditorView.lineWrapping,
          EditorState.readOnly.of(readOnly),
          EditorView.editable.of(!readOnly),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          yCollab(text, new NotesAwareness(awareness), { undoManager }),
        ],
      }),
    })
    return () => {
      view.destroy()
      undoManager.destroy()
    }
  }, [text, awareness, readOnly, label, hint, singleLine])
  return <div ref={host} className={`sec-field ${props.className ?? ''} ${readOnly ? 'read-only-field' : ''}`} />
}
