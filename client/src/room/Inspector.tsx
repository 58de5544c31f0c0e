/**
 * The inspector: label and every parameter the catalog defines for the selected node's type, with
 * units, ranges and inline errors. Invalid input stays on screen with its error and is not stored.
 */
import { useEffect, useState } from 'react'
import * as Y from 'yjs'
import type { ParamDef } from '../api'
import { paramError, parseParamInput, rangeText, type Catalog } from '../catalog'
import {
  deleteElements,
  duplicateNodes,
  getNode,
  NOTE_TYPE,
  readEdge,
  root,
  setParam,
  updateEdgeLabel,
  updateNode,
  type DesignNode,
} from '../schema'

/** Re-reads one node whenever anything inside it changes (and only then). */
function useNode(doc: Y.Doc, id: string): DesignNode | null {
  const [node, setNode] = useState(() => getNode(doc, id))
  useEffect(() => {
    setNode(getNode(doc, id))
    const nodes = root(doc).nodes
    const onChange = (evs: Y.YEvent<Y.AbstractType<unknown>>[]) => {
      for (const ev of evs) {
        if ((ev.target === nodes && ev.changes.keys.has(id)) || ev.path[0] === id) {
          setNode(getNode(doc, id))
          return
        }
      }
    }
    nodes.observeDeep(onChange)
    return () => nodes.unobserveDeep(onChange)
  }, [doc, id])
  return node
}

export function Inspector(props: { doc: Y.Doc; catalog: Catalog; nodes: string[]; edges: string[]; readOnly: boolean }) {
  const { doc, nodes, edges, readOnly } = props
  if (nodes.length === 1) return <NodeInspector key={nodes[0]} {...props} id={nodes[0]} />
  if (nodes.length > 1) {
    return (
      <div className="inspector">
        <h2 className="panel-title">{nodes.length} nodes selected</h2>
        {!readOnly && (
          <div className="row gap">
            <button type="button" onClick={() => duplicateNodes(doc, nodes)}>
              Duplicate
            </button>
            <button type="button" className="danger" onClick={() => deleteElements(doc, nodes, edges)}>
              Delete
            </button>
          </div>
        )}
      </div>
    )
  }
  if (edges.length === 1) return <EdgeInspector key={edges[0]} doc={doc} id={edges[0]} readOnly={readOnly} catalog={props.catalog} />
  return (
    <div className="inspector empty">
      <p className="muted">Select a component to edit its label and parameters.</p>
    </div>
  )
}

function NodeInspector(props: { doc: Y.Doc; catalog: Catalog; id: string; readOnly: boolean }) {
  const { doc, catalog, id, readOnly } = props
  const node = useNode(doc, id)
  if (!node) return null
  const def = catalog.get(node.type)
  const isNote = node.type === NOTE_TYPE
  return (
    <div className="inspector" aria-label="Inspector">
      <h2 className="panel-title">{isNote ? 'Note' : catalog.name(node.type)}</h2>
      {!isNote && (
        <p className="muted small">
          type <code>{node.type}</code>
          {def ? ` · ${def.family}` : ' · not in the catalog'}
        </p>
      )}
      <label className="field">
        <span>{isNote ? 'Text' : 'Label'}</span>
        {isNote ? (
          <textarea value={node.label} rows={5} readOnly={readOnly} onChange={(e) => updateNode(doc, id, { label: e.target.value })} />
        ) : (
          <input type="text" value={node.label} readOnly={readOnly} onChange={(e) => updateNode(doc, id, { label: e.target.value })} />
        )}
      </label>
      {!isNote && (
        <>
          <h3 className="sub">Parameters</h3>
          {(def?.params ?? []).length === 0 && <p className="muted small">No parameters for this type.</p>}
          {(def?.params ?? []).map((p) => (
            <ParamField
              key={p.name}
              def={p}
              value={node.params[p.name]}
              readOnly={readOnly}
              onChange={(v) => setParam(doc, id, p.name, v)}
            />
          ))}
          {Object.keys(node.params)
            .filter((k) => !def?.params.some((p) => p.name === k))
            .map((k) => (
              <p key={k} className="field-error small">
                {k} = {String(node.params[k])}: not a parameter of this type
              </p>
            ))}
        </>
      )}
      {!readOnly && (
        <div className="row gap">
          <button type="button" onClick={() => duplicateNodes(doc, [id])}>
            Duplicate
          </button>
          <button type="button" className="danger" onClick={() => deleteElements(doc, [id])}>
            Delete
          </button>
        </div>
      )}
    </div>
  )
}

function ParamField(props: {
  def: ParamDef
  value: DesignNode['params'][string] | undefined
  readOnly: boolean
  onChange: (v: DesignNode['params'][string] | undefined) => void
}) {
  const { def, value, readOnly } = props
  const stored = value === undefined ? '' : String(value)
  const [text, setText] = useState(stored)
  const [error, setError] = useState<string | null>(null)
  // A remote change replaces what is shown, unless the user is mid-way through an invalid entry.
  useEffect(() => {
    if (!error) setText(stored)
  }, [stored, error])
  const id = `param-${def.name}`
  const storedError = paramError(def, value)
  const range = rangeText(def)
  const placeholder = def.default !== undefined && def.default !== null ? String(def.default) : ''
  if (def.type === 'boolean') {
    const checked = typeof value === 'boolean' ? value : def.default === true
    return (
      <label className="field check" title={def.description}>
        <input type="checkbox" checked={checked} disabled={readOnly} onChange={(e) => props.onChange(e.target.checked)} />
        <span>{def.name}</span>
      </label>
    )
  }
  const shown = error ?? storedError
  return (
    <div className="field" title={def.description}>
      <label htmlFor={id}>
        {def.name}
        {def.unit && <span className="unit"> ({def.unit})</span>}
      </label>
      <input
        id={id}
        type="text"
        inputMode={def.type === 'string' ? 'text' : 'decimal'}
        value={text}
        placeholder={placeholder}
        readOnly={readOnly}
        aria-invalid={shown ? true : undefined}
        aria-describedby={`${id}-help`}
        onChange={(e) => {
          setText(e.target.value)
          const r = parseParamInput(def, e.target.value)
          if ('error' in r) setError(r.error)
          else {
            setError(null)
            props.onChange(r.value)
          }
        }}
      />
      <div id={`${id}-help`} className={shown ? 'field-error small' : 'muted small'}>
        {shown ? `${def.name} ${shown}` : [range && `range ${range}`, def.description].filter(Boolean).join(' · ')}
      </div>
    </div>
  )
}

function EdgeInspector(props: { doc: Y.Doc; catalog: Catalog; id: string; readOnly: boolean }) {
  const { doc, id, readOnly, catalog } = props
  const m = root(doc).edges.get(id)
  const [label, setLabel] = useState(m instanceof Y.Map ? (readEdge(id, m).label ?? '') : '')
  if (!(m instanceof Y.Map)) return null
  const e = readEdge(id, m)
  const from = getNode(doc, e.from)
  const to = getNode(doc, e.to)
  return (
    <div className="inspector">
      <h2 className="panel-title">Connection</h2>
      <p className="small">
        {from?.label || catalog.name(from?.type ?? '?')} → {to?.label || catalog.name(to?.type ?? '?')}
      </p>
      <label className="field">
        <span>Label</span>
        <input
          type="text"
          value={label}
          readOnly={readOnly}
          placeholder="e.g. HTTP, async"
          onChange={(ev) => {
            setLabel(ev.target.value)
            updateEdgeLabel(doc, id, ev.target.value)
          }}
        />
      </label>
      {!readOnly && (
        <button type="button" className="danger" onClick={() => deleteElements(doc, [], [id])}>
          Delete connection
        </button>
      )}
    </div>
  )
}
