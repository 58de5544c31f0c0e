/** The canvas selection as the room's panels see it, and duplicating it with the copies selected. */
import { useCallback, useState } from 'react'
import { useStoreApi } from '@xyflow/react'
import type * as Y from 'yjs'
import { duplicateNodes } from '../schema'

export interface Selection {
  nodes: string[]
  edges: string[]
}

/**
 * Selects `ids` as soon as React Flow holds them. New nodes reach its store only after the Yjs
 * observer's state update has rendered, which on a busy machine can take several frames: selecting
 * them on a timer could find nothing and leave the selection empty (a Delete right after Ctrl+D then
 * removed nothing). Gives up after 5 s, e.g. if someone deleted the copies first.
 */
export function selectWhenShown(store: ReturnType<typeof useStoreApi>, ids: string[]): void {
  if (ids.length === 0) return
  let done = false
  const finish = () => {
    done = true
    unsubscribe()
    clearTimeout(timer)
  }
  const tryNow = () => {
    if (done) return
    const s = store.getState()
    if (!ids.every((id) => s.nodeLookup.has(id))) return
    finish()
    s.addSelectedNodes(ids)
  }
  const unsubscribe = store.subscribe(tryNow)
  const timer = setTimeout(finish, 5000)
  tryNow()
}

/**
 * The current selection, the callback the canvas reports it to, and `duplicate`, which copies the
 * selected nodes and selects the copies. Selecting changes no panel: the side panel used to switch
 * to the inspector on the first selection, hiding the tiers mid-build (issue 24, item 4).
 */
export function useSelection(doc: Y.Doc, readOnly: boolean) {
  const store = useStoreApi()
  const [selection, setSelection] = useState<Selection>({ nodes: [], edges: [] })
  const onSelection = useCallback((nodes: string[], edges: string[]) => setSelection({ nodes, edges }), [])
  const duplicate = useCallback(() => {
    if (readOnly || selection.nodes.length === 0) return
    const ids = duplicateNodes(doc, selection.nodes)
    store.getState().unselectNodesAndEdges()
    selectWhenShown(store, ids)
  }, [doc, readOnly, selection.nodes, store])
  return { selection, onSelection, duplicate }
}
