/**
 * Ctrl+C / Ctrl+X / Ctrl+V on the canvas (issue 24, item 3): the selection with its edges goes to the
 * system clipboard as text (`pasting.ts`), so it pastes into this room, another room, or another
 * tab. A paste is centred under the pointer when it is over the canvas, else in the middle of the view.
 * Copying text from a field, the notes or the page works as usual: those events are left alone.
 */
import { useEffect, useRef } from 'react'
import { useReactFlow, useStoreApi } from '@xyflow/react'
import type * as Y from 'yjs'
import { deleteElements, exportDesign } from '../schema'
import { NODE_WIDTH } from '../flow'
import { copyPayload, corner, insertDesign, parsePayload } from './pasting'
import { selectWhenShown } from './selection'
import { isTyping } from './useShortcuts'

/** Whether the user is copying page text (a selection of text) rather than canvas nodes. */
function copyingText(e: ClipboardEvent): boolean {
  return isTyping(e.target) || (window.getSelection()?.toString() ?? '') !== ''
}

export function useClipboard(doc: Y.Doc, readOnly: boolean, selected: string[], onNotice: (m: string) => void): void {
  const rf = useReactFlow()
  const store = useStoreApi()
  const latest = useRef({ readOnly, selected, onNotice })
  latest.current = { readOnly, selected, onNotice }
  const pointer = useRef<{ x: number; y: number } | null>(null)

  useEffect(() => {
    const onPointer = (e: PointerEvent) => {
      pointer.current = { x: e.clientX, y: e.clientY }
    }
    /** Where a paste goes: under the pointer if it is over the canvas, else the view's middle. */
    const target = () => {
      const pane = document.querySelector('.react-flow')?.getBoundingClientRect()
      if (!pane) return { x: 0, y: 0 }
      const p = pointer.current
      const inside = p && p.x >= pane.left && p.x <= pane.right && p.y >= pane.top && p.y <= pane.bottom
      return rf.screenToFlowPosition(inside ? p : { x: pane.left + pane.width / 2, y: pane.top + pane.height / 2 })
    }
    const onCopy = (e: ClipboardEvent) => {
      if (copyingText(e) || !e.clipboardData) return
      const payload = copyPayload(exportDesign(doc), latest.current.selected)
      if (!payload) return
      e.preventDefault()
      e.clipboardData.setData('text/plain', payload)
      if (e.type === 'cut' && !latest.current.readOnly) deleteElements(doc, latest.current.selected)
    }
    const onPaste = (e: ClipboardEvent) => {
      if (isTyping(e.target) || !e.clipboardData) return
      const design = parsePayload(e.clipboardData.getData('text/plain'))
      if (!design) return
      e.preventDefault()
      if (latest.current.readOnly) {
        latest.current.onNotice('This is a view-only link: pasting needs the edit link')
        return
      }
      // The copy's middle goes under the pointer (sizes as the canvas's standard node).
      const p = target()
      const c = corner(design)
      const w = Math.max(...design.nodes.map((n) => n.x)) + NODE_WIDTH - c.x
      const h = Math.max(...design.nodes.map((n) => n.y)) + 56 - c.y
      const ids = insertDesign(doc, design, { x: p.x - w / 2, y: p.y - h / 2 })
      store.getState().unselectNodesAndEdges()
      selectWhenShown(store, ids)
      latest.current.onNotice(`Pasted ${ids.length} component${ids.length === 1 ? '' : 's'}`)
    }
    window.addEventListener('pointermove', onPointer)
    document.addEventListener('copy', onCopy)
    document.addEventListener('cut', onCopy)
    document.addEventListener('paste', onPaste)
    return () => {
      window.removeEventListener('pointermove', onPointer)
      document.removeEventListener('copy', onCopy)
      document.removeEventListener('cut', onCopy)
      document.removeEventListener('paste', onPaste)
    }
  }, [doc, rf, store])
}
