/**
 * The header every page shares: the brand link, whatever the page adds, the theme toggle. Its own
 * module so that pages import it without importing `App` (which imports the pages).
 */
import type { ReactNode } from 'react'
import { linkClick } from './router'
import { useTheme } from './theme'

export function ThemeToggle() {
  const [theme, toggle] = useTheme()
  return (
    <button
      type="button"
      className="icon-btn"
      onClick={toggle}
      aria-label={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
      title="Toggle theme"
    >
      {theme === 'dark' ? '☀' : '☾'}
    </button>
  )
}

export function Brand() {
  return (
    <a href="/" onClick={linkClick('/')} className="brand" aria-label="tierboard home">
      <svg width="22" height="22" viewBox="0 0 32 32" aria-hidden="true">
        <rect width="32" height="32" rx="7" fill="var(--accent)" />
        <path d="M8 22h16M8 16h11M8 10h6" stroke="white" strokeWidth="3" strokeLinecap="round" />
      </svg>
      <span>tierboard</span>
    </a>
  )
}

/** The page header: brand, whatever the page adds, the theme toggle. */
export function TopBar({ children }: { children?: ReactNode }) {
  return (
    <header className="topbar">
      <Brand />
      {children}
      <div className="spacer" />
      <ThemeToggle />
    </header>
  )
}
