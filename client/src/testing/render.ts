/**
 * A DOM host for component tests: a fresh React root per test, unmounted and removed after it.
 * Call inside a `describe`; read `host()` / `root()` in the tests.
 */
import { afterEach, beforeEach } from 'vitest'
import { act } from 'react'
import { createRoot, type Root } from 'react-dom/client'

;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

export function setupHost(): { host: () => HTMLDivElement; root: () => Root } {
  let host: HTMLDivElement
  let root: Root
  beforeEach(() => {
    host = document.createElement('div')
    document.body.appendChild(host)
    root = createRoot(host)
  })
  afterEach(() => {
    act(() => root.unmount())
    host.remove()
  })
  return { host: () => host, root: () => root }
}
