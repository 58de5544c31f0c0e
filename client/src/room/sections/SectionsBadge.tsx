/** The Sections tab's badge: how many of the server's section checks pass, of those that judged. */
import type { SectionChecks } from '../../report/sections'

export function SectionsBadge({ checks }: { checks: SectionChecks | null }) {
  const judged = checks?.checks.filter((c) => c.status !== 'info') ?? []
  if (judged.length === 0) return null
  const passed = judged.filter((c) => c.status === 'pass').length
  return (
    <span className={`badge ${passed === judged.length ? 'ok' : ''}`} data-testid="sections-badge" title="Section checks passing">
      {passed}/{judged.length}
    </span>
  )
}
