/**
 * The canvas's edge: a bezier between the sides of its nodes that face each other (`geometry.ts`),
 * wherever the connection was started or dropped. Edges in the document name only their two nodes,
 * so moving a node re-routes its edges, and the export draws the same curves.
 */
import { memo } from 'react'
import { BaseEdge, useInternalNode, type EdgeProps, type InternalNode } from '@xyflow/react'
import { NODE_WIDTH, type DesignFlowNode } from '../flow'
import { edgeGeometry, type Box } from './geometry'

function boxOf(n: InternalNode<DesignFlowNode>): Box {
  return {
    x: n.internals.positionAbsolute.x,
    y: n.internals.positionAbsolute.y,
    width: n.measured.width ?? NODE_WIDTH,
    height: n.measured.height ?? 56,
  }
}

export const FacingEdge = memo(function FacingEdge(props: EdgeProps) {
  const source = useInternalNode<DesignFlowNode>(props.source)
  const target = useInternalNode<DesignFlowNode>(props.target)
  if (!source || !target) return null
  const g = edgeGeometry(boxOf(source), boxOf(target))
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
