/**
 * The Export menu: the design as JSON, PNG or SVG, copied as an image, and (for editors) importing a
 * design JSON: straight in when the room is empty, else beside the design or instead of it.
 */
import { useContext, useEffect, useRef, useState } from 'react'
import { useReactFlow } from '@xyflow/react'
import type * as Y from 'yjs'
import { observeDesign } from '../flow'
import { isEmpty, replaceDesign, type Design } from '../schema'
import { CatalogContext } from './context'
import { copyImage, exportImage, exportJson, importFile, mergeDesign, readDesignFile } from './exporting'
import { Menu } from './Menu'

/** Whether the design is empty, kept current (an import into a non-empty room asks merge or replace). */
function useEmpty(doc: Y.Doc): boolean {
  const [empty, setEmpty] = useState(() => isEmpty(doc))
  useEffect(() => {
    setEmpty(isEmpty(doc))
    return observeDesign(doc, () => setEmpty(isEmpty(doc)))
  }, [doc])
  return empty
}

export function ExportMenu({
  doc,
  readOnly,
  base,
  onNotice,
}: {
  doc: Y.Doc
  readOnly: boolean
  base: string
  onNotice: (m: string) => void
}) {
  const rf = useReactFlow()
  const catalog = useContext(CatalogContext)
  const empty = useEmpty(doc)
  const fileInput = useRef<HTMLInputElement>(null)
  const [pending, setPending] = useState<{ name: string; design: Design } | null>(null)
  const fitSoon = () => setTimeout(() => void rf.fitView({ duration: 300, padding: 0.2 }), 50)
  const finish = (how: 'merge' | 'replace') => {
    if (!pending) return
    if (how === 'merge') mergeDesign(doc, pending.design)
    else replaceDesign(doc, pending.design)
    onNotice(`${how === 'merge' ? 'Added' : 'Replaced the design with'} ${pending.design.nodes.length} components from ${pending.name}`)
    setPending(null)
    fitSoon()
  }
  return (
    <>
      <Menu label="Export" ariaLabel="Export or import" closeOnClick>
        <button type="button" onClick={() => exportJson(doc, base)}>
          Design JSON
        </button>
        <button
          type="button"
          onClick={() =>
            void exportImage('png', doc, rf.getNodes(), catalog, base).catch((e: Error) => onNotice(`PNG export failed: ${e.message}`))
          }
          title="A PNG at twice the design's size, sharp on high-density screens"
        >
          PNG image
        </button>
        <button
          type="button"
          onClick={() =>
            void exportImage('svg', doc, rf.getNodes(), catalog, base).catch((e: Error) => onNotice(`SVG export failed: ${e.message}`))
          }
          title="Vector shapes and text, for documents and slides"
        >
          SVG image
        </button>
        <button
          type="button"
          onClick={() =>
            void copyImage(doc, rf.getNodes(), catalog).then(
              () => onNotice('Copied the design as an image'),
              (e: Error) => onNotice(`Copy failed: ${e.message}`),
            )
          }
          title="The PNG on the clipboard, to paste into a chat or a document"
        >
          Copy as image
        </button>
        {!readOnly && (
          <>
            <hr />
            <button
              type="button"
              onClick={() => fileInput.current?.click()}
              title={empty ? 'Load a design JSON' : 'Load a design JSON beside this one or instead of it'}
            >
              Import design JSON…
            </button>
            <input
              ref={fileInput}
              type="file"
              accept="application/json,.json"
              hidden
              aria-label="Design JSON file"
              onChange={(e) => {
                const f = e.target.files?.[0]
                e.target.value = ''
                // The file dialog was the menu's last step: close the menu as choosing an item does.
                e.target.closest('details')?.removeAttribute('open')
                if (!f) return
                if (!empty) {
                  // The room has a design: ask whether to add the file's beside it or to replace it.
                  readDesignFile(f).then(
                    (design) => setPending({ name: f.name, design }),
                    (err: Error) => onNotice(`Import failed: ${err.message}`),
                  )
                  return
                }
                importFile(doc, f).then(
                  (n) => {
                    onNotice(`Imported ${n} components`)
                    fitSoon()
                  },
                  (err: Error) => onNotice(`Import failed: ${err.message}`),
                )
              }}
            />
          </>
        )}
      </Menu>
      {pending && (
        <div className="modal-backdrop" onClick={() => setPending(null)}>
          <div
            className="modal"
            role="dialog"
            aria-modal="true"
            aria-labelledby="import-title"
            onClick={(e) => e.stopPropagation()}
            onKeyDown={(e) => e.key === 'Escape' && setPending(null)}
          >
            <h2 id="import-title">Import {pending.name}</h2>
            <p>
              This room already has a design. Add the {pending.design.nodes.length} components of the file beside it, or replace it? Undo
              (Ctrl+Z) takes either back.
            </p>
            <div className="modal-actions">
              <button type="button" className="primary" autoFocus onClick={() => finish('merge')}>
                Add beside
              </button>
              <button type="button" className="danger" onClick={() => finish('replace')}>
                Replace the design
              </button>
              <button type="button" onClick={() => setPending(null)}>
                Cancel
              </button>
            </div>
          </div>
        </div>
      )}
    </>
  )
}
