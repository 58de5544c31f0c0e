/**
 * The canvas's edge: a bezier between the sides of its nodes that face each other (`geometry.ts`),
 * wherever the connection was started or dropped. Edges in the document name only their two nodes,
 * so moving a node re-routes its edges, and the export draws the same curves.
 */
import { memo, useCallback } from 'react'
import { BaseEdge, useStore, type EdgeProps, type ReactFlowState } from '@xyflow/react'
import { NODE_WIDTH } from '../flow'
import { edgeGeometry } from './geometry'

/** The two nodes' boxes as one string: one store subscription per edge, equal while nothing moved. */
function boxesKey(s: ReactFlowState, source: string, target: string): string | null {
  const a = s.nodeLookup.get(source)
  const b = s.nodeLookup.get(target)
  if (!a || !b) return null
  const p = a.internals.positionAbsolute
  const q = b.internals.positionAbsolute
  return `${p.x} ${p.y} ${a.measured.width ?? NODE_WIDTH} ${a.measured.height ?? 56} ${q.x} ${q.y} ${b.measured.width ?? NODE_WIDTH} ${b.measured.height ?? 56}`
}

export const FacingEdge = memo(function FacingEdge(props: EdgeProps) {
  // Each subscriber runs on every store update, a pan's frames included: one per edge, not two.
  const key = useStore(useCallback((s: ReactFlowState) => boxesKey(s, props.source, props.target), [props.source, props.target]))
  if (key === null) return null
  const [sx, sy, sw, sh, tx, ty, tw, th] = key.split(' ').map(Number)
  const g = edgeGeometry({ x: sx, y: sy, width: sw, height: sh }, { x: tx, y: ty, width: tw, height: th })
  return (
    <BaseEdge
      id={props.id}
      path={g.d}
      markerEnd={props.markerEnd}
      style={props.style}
      label={props.label}
      labelX={g.label.x}
      labelY={g.label.y}
      labelStyle={props.labelStyle}
      labelShowBg={props.labelShowBg}
      labelBgStyle={props.labelBgStyle}
      labelBgPadding={props.labelBgPadding}
      labelBgBorderRadius={props.labelBgBorderRadius}
      interactionWidth={props.interactionWidth}
    />
  )
})

export const edgeTypes = { facing: FacingEdge }
