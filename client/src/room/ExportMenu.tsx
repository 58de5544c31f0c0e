/** The Export menu: the design as JSON, PNG or SVG, and (for editors, into an empty room) importing a design JSON. */
import { useEffect, useRef, useState } from 'react'
import { useReactFlow } from '@xyflow/react'
import type * as Y from 'yjs'
import { observeDesign } from '../flow'
import { isEmpty } from '../schema'
import { exportImage, exportJson, importFile } from './exporting'
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
  const empty = useEmpty(doc)
  const fileInput = useRef<HTMLInputElement>(null)
  return (
    <Menu label="Export" ariaLabel="Export or import" closeOnClick>
      <button type="button" onClick={() => exportJson(doc, base)}>
        Design JSON
      </button>
      <button
        type="button"
        onClick={() => void exportImage('png', rf.getNodes(), base).catch((e: Error) => onNotice(`PNG export failed: ${e.message}`))}
      >
        PNG image
      </button>
      <button
        type="button"
        onClick={() => void exportImage('svg', rf.getNodes(), base).catch((e: Error) => onNotice(`SVG export failed: ${e.message}`))}
      >
        SVG image
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
