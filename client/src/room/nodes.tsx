/**
 * The canvas node components. Memoised: React Flow re-renders a node only when its object changes,
 * and the flow store (../flow.ts) gives new objects only to the nodes an edit touched. They draw
 * nothing from their position, so a node being dragged does not re-render on every frame either.
 */
import { memo, useCallback, useContext, useState, type CSSProperties } from 'react'
import type { NodeProps } from '@xyflow/react'
import { keyParams } from '../catalog'
import type { DesignFlowNode } from '../flow'
import { ComponentIcon, familyColor } from '../icons'
import { instancesOf, updateNode } from '../schema'
import { CatalogContext, RoomContext } from './context'
import { Anchor, Handles } from './handles'

function decorStyle(d: DesignFlowNode['data']['decor']): CSSProperties | undefined {
  const remote = d.remote ?? []
  const heat: CSSProperties | undefined = d.heat ? ({ '--heat': d.heat.color } as CSSProperties) : undefined
  if (remote.length === 0) return heat
  // One ring per remote selector, stacked outside the node.
  return { ...heat, boxShadow: remote.map((c, i) => `0 0 0 ${2 + i * 3}px ${c}`).join(', ') }
}

/** What a node draws from: its data and whether it is selected, not where it is or how big. */
function sameDraw(a: NodeProps<DesignFlowNode>, b: NodeProps<DesignFlowNode>): boolean {
  return a.id === b.id && a.data === b.data && a.selected === b.selected && a.type === b.type
}

export const ComponentNode = memo(function ComponentNode({ data, selected }: NodeProps<DesignFlowNode>) {
  const catalog = useContext(CatalogContext)
  const { readOnly } = useContext(RoomContext)
  // Connection handles on the node under the pointer and on selected ones only (./handles.tsx).
  const [hover, setHover] = useState(false)
  const enter = useCallback(() => setHover(true), [])
  const leave = useCallback(() => setHover(false), [])
  const n = data.node
  const def = catalog.get(n.type)
  const count = instancesOf(n)
  const extra = keyParams(def, n.params)
  const heat = data.decor.heat
  const cls = [
    'tb-node',
    selected ? 'selected' : '',
    data.decor.highlight ? 'highlight' : '',
    def ? '' : 'unknown',
    heat ? `heat heat-${heat.band}` : '',
    heat?.bottleneck ? 'bottleneck' : '',
    data.decor.failing ? 'failing' : '',
  ].join(' ')
  const failing = data.decor.failing
  return (
    <div
      className={cls}
      style={decorStyle(data.decor)}
      data-testid="tb-node"
      data-type={n.type}
      data-heat={heat?.band}
      data-failing={failing?.tier}
      data-utilisation={heat ? heat.utilisation.toFixed(4) : undefined}
      title={heat?.title}
      aria-label={`${n.label || catalog.name(n.type)} (${n.type})`}
      onPointerEnter={enter}
      onPointerLeave={leave}
    >
      <Anchor />
      {!readOnly && (hover || selected) && <Handles />}
      <div className="tb-node-icon" style={{ background: familyColor(def?.family) }}>
        <ComponentIcon icon={def?.icon} type={n.type} family={def?.family} size={22} />
      </div>
      <div className="tb-node-body">
        <div className="tb-node-label">{n.label || catalog.name(n.type)}</div>
        <div className="tb-node-type">
          {n.label && n.label !== catalog.name(n.type) ? `${catalog.name(n.type)} · ` : ''}
          <span className="mono">{n.type}</span>
          {!def && catalog.components.length > 0 && <span className="warn"> · unknown type</span>}
        </div>
        {extra.length > 0 && <div className="tb-node-params">{extra.join(' · ')}</div>}
        {heat && (
          <div className="tb-node-heat" data-testid="node-heat">
            {heat.badge}
          </div>
        )}
      </div>
      {heat?.bottleneck && (
        <div className="bottleneck-tag" data-testid="bottleneck-tag">
          bottleneck
        </div>
      )}
      {failing && (
        <div className="rule-tag" data-testid="rule-tag" title={`Fails:\n${failing.rules.join('\n')}`}>
          ✗ {failing.tier}
        </div>
      )}
      {count > 1 && (
        <div className="tb-node-count" title={`fleet of ${count}`}>
          × {count}
        </div>
      )}
    </div>
  )
}, sameDraw)

export const NoteNode = memo(function NoteNode({ id, data, selected }: NodeProps<DesignFlowNode>) {
  const { doc, readOnly } = useContext(RoomContext)
  const [editing, setEditing] = useState(false)
  const cls = ['tb-note', selected ? 'selected' : '', data.decor.highlight ? 'highlight' : ''].join(' ')
  return (
    <div
      className={cls}
      style={decorStyle(data.decor)}
      data-testid="tb-note"
      aria-label="note"
      onDoubleClick={() => !readOnly && doc && setEditing(true)}
      title={readOnly ? undefined : 'Double-click to edit'}
    >
      {editing && doc ? (
        <textarea
          className="nodrag nowheel tb-note-edit"
          autoFocus
          aria-label="Note text"
          value={data.node.label}
          onChange={(e) => updateNode(doc, id, { label: e.target.value })}
          onBlur={() => setEditing(false)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setEditing(false)
          }}
        />
      ) : (
        data.node.label || <span className="muted">{readOnly ? 'Empty note' : 'Double-click to write'}</span>
      )}
    </div>
  )
}, sameDraw)

export const nodeTypes = { component: ComponentNode, note: NoteNode }
