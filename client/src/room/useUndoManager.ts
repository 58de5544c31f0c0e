/** Undo/redo of one's own canvas edits: a Yjs UndoManager per document and the sizes of its stacks. */
import { useEffect, useState } from 'react'
import type * as Y from 'yjs'
import { canvasUndoManager } from '../schema'

export interface UndoState {
  /** The manager, null until the effect has created it (and after unmount). */
  undo: Y.UndoManager | null
  /** How many steps can be undone and redone, for the toolbar buttons. */
  stack: { undo: number; redo: number }
}

export function useUndoManager(doc: Y.Doc): UndoState {
  // Created in the effect (not in a memo) so that StrictMode's mount-unmount-mount in development
  // does not leave a destroyed manager behind.
  const [undo, setUndo] = useState<Y.UndoManager | null>(null)
  const [stack, setStack] = useState({ undo: 0, redo: 0 })
  useEffect(() => {
    const um = canvasUndoManager(doc)
    const update = () => setStack({ undo: um.undoStack.length, redo: um.redoStack.length })
    um.on('stack-item-added', update)
    um.on('stack-item-popped', update)
    um.on('stack-cleared', update)
    setUndo(um)
    return () => {
      um.destroy()
      setUndo(null)
    }
  }, [doc])
  return { undo, stack }
}
