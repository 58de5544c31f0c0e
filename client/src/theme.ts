/** Light and dark themes: a `data-theme` attribute on <html>, remembered in localStorage. */
import { useCallback, useSyncExternalStore } from 'react'

export type Theme = 'light' | 'dark'
const KEY = 'tierboard.theme'
const listeners = new Set<() => void>()

export function initialTheme(): Theme {
  const saved = localStorage.getItem(KEY)
  if (saved === 'light' || saved === 'dark') return saved
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'
}

export function applyTheme(t: Theme): void {
  document.documentElement.dataset.theme = t
}

function current(): Theme {
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light'
}

export function useTheme(): [Theme, () => void] {
  const theme = useSyncExternalStore((f) => {
    listeners.add(f)
    return () => listeners.delete(f)
  }, current)
  const toggle = useCallback(() => {
    const next: Theme = current() === 'dark' ? 'light' : 'dark'
    localStorage.setItem(KEY, next)
    applyTheme(next)
    for (const f of listeners) f()
  }, [])
  return [theme, toggle]
}
