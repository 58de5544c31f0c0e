/** A disclosure menu (<details>) that closes on outside click, Escape, or choosing an item. */
import { useEffect, useRef, type ReactNode } from 'react'

export function Menu(props: {
  label: string
  ariaLabel: string
  className?: string
  wide?: boolean
  closeOnClick?: boolean
  children: ReactNode
}) {
  const ref = useRef<HTMLDetailsElement>(null)
  useEffect(() => {
    const close = (e: Event) => {
      const d = ref.current
      if (!d?.open) return
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !d.contains(e.target as Node)) d.open = false
    }
    document.addEventListener('pointerdown', close)
    document.addEventListener('keydown', close)
    return () => {
      document.removeEventListener('pointerdown', close)
      document.removeEventListener('keydown', close)
    }
  }, [])
  return (
    <details ref={ref} className={`menu ${props.className ?? ''}`}>
      <summary aria-label={props.ariaLabel}>{props.label}</summary>
      <div
        className={`menu-body ${props.wide ? 'wide' : ''}`}
        onClick={(e) => {
          if (props.closeOnClick && (e.target as HTMLElement).closest('button') && ref.current) ref.current.open = false
        }}
      >
        {props.children}
      </div>
    </details>
  )
}
