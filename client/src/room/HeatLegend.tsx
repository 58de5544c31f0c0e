/**
 * The canvas's one legend, in a corner: the heat colours of the capacity simulation and the mark of
 * nodes that fail a tier rule (issue 24, item 4), whichever of them the canvas shows.
 */
import { memo } from 'react'
import { HEAT_LEGEND } from '../simulation'

export const HeatLegend = memo(function HeatLegend({
  caption,
  heat = true,
  rules = false,
}: {
  caption?: string
  heat?: boolean
  rules?: boolean
}) {
  return (
    <div className="heat-legend" data-testid="heat-legend" role="note" aria-label="Canvas legend">
      {heat && (
        <>
          <strong>Utilisation{caption ? ` at ${caption}` : ''}</strong>
          <ul>
            {HEAT_LEGEND.map((b) => (
              <li key={b.band}>
                <span className={`heat-swatch heat-${b.band}`} aria-hidden="true" /> {b.label}
              </li>
            ))}
          </ul>
          <span className="muted small">edge width: requests/s</span>
        </>
      )}
      {rules && (
        <span data-testid="legend-rules">
          <span className="rule-tag legend" aria-hidden="true">
            ✗ T1
          </span>{' '}
          fails a rule of that tier
        </span>
      )}
    </div>
  )
})
