import { createContext } from 'react'
import { EMPTY_CATALOG } from '../catalog'

/** The component catalog, for node components (kept out of node data so nodes stay small). */
export const CatalogContext = createContext(EMPTY_CATALOG)
