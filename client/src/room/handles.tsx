/**
 * A node's connection handles, one on each side (issue 24, item 3): a connection can start from any
 * side, and ends on any handle or anywhere on the other node's body (Canvas's `onConnectEnd`). The
 * edge is then drawn between the facing sides whichever handles were used (`edges.tsx`). The right
 * handle comes first: it is where a connection starts by default.
 *
 * Only the node under the pointer and selected nodes have them (issue 24, item 9): each handle is a
 * React Flow store subscriber that ran on every frame of a pan, 1,200 of them on a 300-node design,
 * and four more paint layers per node. Every node keeps one invisible `Anchor` instead, which React
 * Flow reads as the node's handle (it measures `.source` elements): edges need one on each node to be
 * drawn at all, and ours are drawn between the nodes' sides anyway, not from handles.
 */
import { useLayoutEffect } from 'react'
import { Handle, Position, useNodeId, useUpdateNodeInternals } from '@xyflow/react'

/** Node ids whose handles appeared or went in this commit, measured together (one store update). */
const pending = new Set<string>()

function measureSoon(update: (ids: string[]) => void, id: string) {
  if (pending.size === 0) {
    queueMicrotask(() => {
      const ids = [...pending]
      pending.clear()
      update(ids)
    })
  }
  pending.add(id)
}

export function Handles() {
  const id = useNodeId()
  const update = useUpdateNodeInternals()
  // React Flow starts a connection from a handle it has measured: measure them as they appear, and
  // again as they go (a stale handle would be offered as a place to drop a connection). Batched:
  // selecting every node of a big design measures them in one go, not one store update per node.
  useLayoutEffect(() => {
    if (!id) return
    measureSoon(update, id)
    return () => measureSoon(update, id)
  }, [id, update])
  return (
    <>
      <Handle type="source" position={Position.Right} id="right" />
      <Handle type="target" position={Position.Left} id="left" />
      <Handle type="source" position={Position.Top} id="top" />
      <Handle type="source" position={Position.Bottom} id="bottom" />
    </>
  )
}

/** The node's stand-in handle for React Flow's edge bookkeeping: never seen, never hit. */
export function Anchor() {
  return <div className="tb-anchor source" aria-hidden="true" />
}
