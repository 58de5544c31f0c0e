/** The Export menu: the design as JSON, PNG or SVG, copied as an image, and (for editors, into an empty room) importing a design JSON. */
import { useContext, useEffect, useRef, useState } from 'react'
import { useReactFlow } from '@xyflow/react'
import type * as Y from 'yjs'
import { observeDesign } from '../flow'
import { isEmpty } from '../schema'
import { CatalogContext } from './context'
import { copyImage, exportImage, exportJson, importFile } from './exporting'
import { Menu } from './Menu'

/** Whether the design is empty, kept current (import is offered only into an empty room). */
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
  return (
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
            disabled={!empty}
            onClick={() => fileInput.current?.click()}
            title={empty ? 'Load a design JSON' : 'Import needs an empty room'}
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
              importFile(doc, f).then(
                (n) => {
                  onNotice(`Imported ${n} components`)
                  setTimeout(() => void rf.fitView({ duration: 300, padding: 0.2 }), 50)
                },
                (err: Error) => onNotice(`Import failed: ${err.message}`),
              )
            }}
          />
        </>
      )}
    </Menu>
  )
}
