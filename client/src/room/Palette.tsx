/** The palette: the problem's available components (catalog icons and names) plus a free-text note. */
import { memo } from 'react'
import { useReactFlow } from '@xyflow/react'
import type * as Y from 'yjs'
import type { Catalog } from '../catalog'
import { ComponentIcon, familyColor } from '../icons'
import { freeSpot, NODE_WIDTH } from '../flow'
import { addNode, exportDesign, NOTE_TYPE } from '../schema'
import { DRAG_MIME } from './Canvas'

export const Palette = memo(function Palette(props: { doc: Y.Doc; types: string[]; catalog: Catalog }) {
  const rf = useReactFlow()
  const { doc, catalog } = props

  // Click (or Enter) adds the component in the middle of the view, slightly staggered.
  function addAtCentre(type: string) {
    const el = document.querySelector('.react-flow')
    const r = el?.getBoundingClientRect()
    const p = rf.screenToFlowPosition({ x: (r?.left ?? 0) + (r?.width ?? 800) / 2, y: (r?.top ?? 0) + (r?.height ?? 600) / 2 })
    const existing = exportDesign(doc).nodes
    const at = freeSpot(existing, { x: Math.round((p.x - NODE_WIDTH / 2) / 16) * 16, y: Math.round((p.y - 28) / 16) * 16 })
    addNode(doc, { type, label: type === NOTE_TYPE ? '' : catalog.name(type), x: at.x, y: at.y })
  }

  return (
    <aside className="palette" aria-label="Component palette">
      <h2 className="panel-title">Components</h2>
      <p className="muted small">Drag onto the canvas, or click to add.</p>
      <ul>
        {[...props.types, NOTE_TYPE].map((t) => {
          const def = catalog.get(t)
          return (
            <li key={t}>
              <button
                type="button"
                className="palette-item"
                draggable
                data-type={t}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_MIME, t)
                  e.dataTransfer.effectAllowed = 'copy'
                }}
                onClick={() => addAtCentre(t)}
                aria-label={`Add ${catalog.name(t)}`}
                title={def ? `${def.name} (${t}) · ${def.family}` : t}
              >
                <span className="palette-icon" style={{ background: familyColor(def?.family ?? (t === NOTE_TYPE ? 'note' : undefined)) }}>
                  <ComponentIcon icon={def?.icon ?? (t === NOTE_TYPE ? 'note' : undefined)} type={t} family={def?.family} size={18} />
                </span>
                <span className="palette-name">{catalog.name(t)}</span>
              </button>
            </li>
          )
        })}
      </ul>
    </aside>
  )
})
