/**
 * Says so when someone else deletes what this participant has selected (issue 24, item 8): the node
 * used to vanish from the canvas and the inspector without a word, mid-edit.
 */
import { useEffect, useRef } from 'react'
import type * as Y from 'yjs'
import { getNode, root } from '../schema'

export function useDeletedNotice(doc: Y.Doc, selected: string[], onNotice: (m: string) => void): void {
  // A deleted node's map is emptied with it: keep the selected nodes' names while they exist.
  const names = useRef(new Map<string, string>())
  useEffect(() => {
    const next = new Map<string, string>()
    for (const id of selected) {
      const n = getNode(doc, id)
      if (n) next.set(id, n.label || n.type)
    }
    names.current = next
  }, [doc, selected])
  useEffect(() => {
    const nodes = root(doc).nodes
    const onChange = (ev: Y.YMapEvent<Y.Map<unknown>>, tr: Y.Transaction) => {
      // One's own deletes, undo included, are no news.
      if (tr.local) return
      ev.changes.keys.forEach((change, id) => {
        const name = names.current.get(id)
        if (change.action !== 'delete' || name === undefined) return
        onNotice(`“${name}”, which you had selected, was deleted by someone else`)
      })
    }
    nodes.observe(onChange)
    return () => nodes.unobserve(onChange)
  }, [doc, onNotice])
}
