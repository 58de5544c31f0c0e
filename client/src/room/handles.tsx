/**
 * A node's connection handles, one on each side (issue 24, item 3): a connection can start from any
 * side, and ends on any handle or anywhere on the other node's body (Canvas's `onConnectEnd`). The
 * edge is then drawn between the facing sides whichever handles were used (`edges.tsx`). The right
 * handle comes first: it is where a connection starts by default.
 */
import { Handle, Position } from '@xyflow/react'

export function Handles() {
  return (
    <>
      <Handle type="source" position={Position.Right} id="right" />
      <Handle type="target" position={Position.Left} id="left" />
      <Handle type="source" position={Position.Top} id="top" />
      <Handle type="source" position={Position.Bottom} id="bottom" />
    </>
  )
}
