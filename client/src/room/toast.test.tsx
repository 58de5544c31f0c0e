// @vitest-environment jsdom
// The room's toast goes away by itself, and a repeated message gets its full time again.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { act } from 'react'
import { setupHost } from '../testing/render'
import { TOAST_MS, useToast } from './useToast'

const dom = setupHost()
let show: (m: string) => void = () => {}

function Probe(props: { server: string | null; dismiss: () => void }) {
  const toast = useToast(props.server, props.dismiss)
  show = toast.show
  return toast.notice ? <div role="status">{toast.notice}</div> : null
}

const shown = () => dom.host().querySelector('[role="status"]')?.textContent ?? null
const advance = (ms: number) => act(() => void vi.advanceTimersByTime(ms))

beforeEach(() => void vi.useFakeTimers())
afterEach(() => void vi.useRealTimers())

describe('useToast', () => {
  it('shows a message and takes it away after its time', () => {
    act(() => dom.root().render(<Probe server={null} dismiss={() => {}} />))
    act(() => show('Imported 5 components'))
    expect(shown()).toBe('Imported 5 components')
    advance(TOAST_MS - 1)
    expect(shown()).toBe('Imported 5 components')
    advance(1)
    expect(shown()).toBeNull()
  })

  it('gives the same message shown again its full time', () => {
    act(() => dom.root().render(<Probe server={null} dismiss={() => {}} />))
    act(() => show('Link copied'))
    advance(TOAST_MS - 500)
    act(() => show('Link copied'))
    // keyed on the text alone, this toast vanished 500 ms after the second click
    advance(TOAST_MS - 1)
    expect(shown()).toBe('Link copied')
    advance(1)
    expect(shown()).toBeNull()
  })

  it('shows the connection’s notice first and dismisses it after its time', () => {
    const dismiss = vi.fn()
    act(() => dom.root().render(<Probe server={null} dismiss={dismiss} />))
    act(() => show('Link copied'))
    act(() => dom.root().render(<Probe server="room is full" dismiss={dismiss} />))
    expect(shown()).toBe('room is full')
    advance(TOAST_MS)
    expect(dismiss).toHaveBeenCalledTimes(1)
    act(() => dom.root().render(<Probe server={null} dismiss={dismiss} />))
    expect(shown()).toBeNull()
  })
})
