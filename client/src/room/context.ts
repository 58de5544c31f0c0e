import { createContext } from 'react'
import type * as Y from 'yjs'
import { EMPTY_CATALOG } from '../catalog'

/** The component catalog, for node components (kept out of node data so nodes stay small). */
export const CatalogContext = createContext(EMPTY_CATALOG)

/** The room's document and whether this participant may edit it, for in-place editing on the canvas. */
export const RoomContext = createContext<{ doc: Y.Doc | null; readOnly: boolean }>({ doc: null, readOnly: true })
