/**
 * The room's one toast: a short message at the bottom of the screen that goes away by itself after
 * `TOAST_MS`. It shows either this browser's own news ("Imported 5 components", "Link copied") or
 * the connection's notice (a server error), the latter first.
 *
 * Every `show` starts the full time again, even for the text already on screen: keyed on the text
 * alone, a second "Link copied" (or a second import of the same size) neither restarted the timer
 * nor counted as news, so it could vanish a moment after the click that asked for it.
 */
import { useCallback, useEffect, useState } from 'react'

export const TOAST_MS = 4000

export function useToast(serverNotice: string | null, dismissServerNotice: () => void) {
  const [own, setOwn] = useState<{ text: string; seq: number } | null>(null)
  const show = useCallback((text: string) => setOwn((o) => ({ text, seq: (o?.seq ?? 0) + 1 })), [])
  const notice = serverNotice ?? own?.text ?? null
  const seq = own?.seq ?? 0
  useEffect(() => {
    if (!notice) return
    const t = setTimeout(() => {
      setOwn(null)
      dismissServerNotice()
    }, TOAST_MS)
    return () => clearTimeout(t)
    // `seq` is a dependency on purpose: a repeated message restarts the time.
  }, [notice, seq, dismissServerNotice])
  return { notice, show }
}
