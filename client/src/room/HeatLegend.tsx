/** The key to the canvas heat colours, in a corner of the canvas, with what the colours show. */
import { HEAT_LEGEND } from '../simulation'

export function HeatLegend({ caption }: { caption?: string }) {
  return (
    <div className="heat-legend" data-testid="heat-legend" role="note" aria-label="Utilisation colours">
      <strong>Utilisation{caption ? ` at ${caption}` : ''}</strong>
      <ul>
        {HEAT_LEGEND.map((b) => (
          <li key={b.band}>
            <span className={`heat-swatch heat-${b.band}`} aria-hidden="true" /> {b.label}
          </li>
        ))}
      </ul>
      <span className="muted small">edge width: requests/s</span>
    </div>
  )
}
