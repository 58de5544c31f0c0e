/** The room's keyboard shortcuts (not while typing in a field or the notes); `ShortcutsHelp` lists them. */
import { useEffect, useRef } from 'react'
import { useReactFlow, useStoreApi } from '@xyflow/react'
import type * as Y from 'yjs'
import { root } from '../schema'

export function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null
  if (!el) return false
  return el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable
}

export interface ShortcutActions {
  readOnly: boolean
  undo: Y.UndoManager | null
  duplicate: () => void
  /** `?` toggles the list of shortcuts, Escape closes it. */
  setHelp: (f: (open: boolean) => boolean) => void
}

export function useShortcuts(doc: Y.Doc, actions: ShortcutActions): void {
  const rf = useReactFlow()
  const store = useStoreApi()
  // The listener is installed once per document; it reads the latest actions through a ref.
  const latest = useRef(actions)
  latest.current = actions
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return
      const mod = e.ctrlKey || e.metaKey
      const k = e.key.toLowerCase()
      const { readOnly: ro, undo: um, duplicate: dup, setHelp } = latest.current
      if (mod && k === 'z' && !ro) {
        e.preventDefault()
        if (e.shiftKey) um?.redo()
        else um?.undo()
      } else if (mod && k === 'y' && !ro) {
        e.preventDefault()
        um?.redo()
      } else if (mod && k === 'd' && !ro) {
        e.preventDefault()
        dup()
      } else if (mod && k === 'a') {
        e.preventDefault()
        store.getState().addSelectedNodes([...root(doc).nodes.keys()])
      } else if (!mod && k === 'f') {
        void rf.fitView({ duration: 300, padding: 0.2, maxZoom: 1.2 })
      } else if (k === 'escape') {
        store.getState().unselectNodesAndEdges()
        setHelp(() => false)
      } else if (k === '?') {
        setHelp((h) => !h)
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [doc, rf, store])
}
