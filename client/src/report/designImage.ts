/**
 * The report's picture of a design (issue 23 item 4, "the final design as an image"): the canvas
 * export's real SVG (`room/svgExport.ts`) in the light theme, so the page, the print view and the
 * Markdown export show the same drawing. Pure.
 */
import type { Catalog } from '../catalog'
import type { Design } from '../schema'
import { designScene, sceneSvg } from '../room/svgExport'

export function designImage(design: Design, catalog: Catalog): string {
  return sceneSvg(designScene(design, catalog))
}
