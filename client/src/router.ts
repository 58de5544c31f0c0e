/**
 * A minimal client-side router over the History API: three routes do not need a library.
 * The server answers every client route with index.html.
 */
import { useSyncExternalStore } from 'react'

export type Route =
  | { name: 'browser'; query: URLSearchParams }
  | { name: 'problem'; id: string }
  | { name: 'room'; room: string }
  | { name: 'report'; room: string }
  | { name: 'not_found'; path: string }

export function matchRoute(pathname: string, search: string): Route {
  if (pathname === '/' || pathname === '') return { name: 'browser', query: new URLSearchParams(search) }
  let m = /^\/problems\/([^/]+)\/?$/.exec(pathname)
  if (m) return { name: 'problem', id: decodeURIComponent(m[1]) }
  m = /^\/r\/([^/]+)\/?$/.exec(pathname)
  if (m) return { name: 'room', room: decodeURIComponent(m[1]) }
  m = /^\/r\/([^/]+)\/report\/?$/.exec(pathname)
  if (m) return { name: 'report', room: decodeURIComponent(m[1]) }
  return { name: 'not_found', path: pathname }
}

const listeners = new Set<() => void>()

function subscribe(f: () => void): () => void {
  listeners.add(f)
  window.addEventListener('popstate', f)
  return () => {
    listeners.delete(f)
    window.removeEventListener('popstate', f)
  }
}

function snapshot(): string {
  return location.pathname + location.search
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  for (const f of listeners) f()
  if (!opts.replace) window.scrollTo(0, 0)
}

/** The current route; re-renders on navigation (fragment changes are not navigation). */
export function useRoute(): Route {
  const key = useSyncExternalStore(subscribe, snapshot)
  const i = key.indexOf('?')
  return matchRoute(i < 0 ? key : key.slice(0, i), i < 0 ? '' : key.slice(i))
}

/** Click handler for in-app links: keeps modifier-clicks (new tab) working. */
export function linkClick(to: string) {
  return (e: { preventDefault(): void; metaKey: boolean; ctrlKey: boolean; shiftKey: boolean; button: number }) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return
    e.preventDefault()
    navigate(to)
  }
}
