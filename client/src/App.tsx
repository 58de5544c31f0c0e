import { lazy, Suspense, type ReactNode } from 'react'
import { Browser } from './browser/Browser'
import { ProblemPage } from './browser/ProblemPage'
import { linkClick, useRoute } from './router'
import { useTheme } from './theme'

export function ThemeToggle() {
  const [theme, toggle] = useTheme()
  return (
    <button type="button" className="icon-btn" onClick={toggle} aria-label={theme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'} title="Toggle theme">
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

// The room (React Flow, Yjs, IndexedDB) loads only when a room is opened.
const Room = lazy(() => import('./room/Room').then((m) => ({ default: m.Room })))

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

export function App() {
  const route = useRoute()
  switch (route.name) {
    case 'browser':
      return <Browser query={route.query} />
    case 'problem':
      return <ProblemPage id={route.id} />
    case 'room':
      return (
        <Suspense fallback={<p className="muted pad">Opening the room…</p>}>
          <Room key={route.room} room={route.room} />
        </Suspense>
      )
    default:
      return (
        <div className="page">
          <TopBar />
          <main className="content narrow">
            <h1>Not found</h1>
            <p>
              Nothing lives at <code>{route.path}</code>. <a href="/" onClick={linkClick('/')}>Browse the problems</a>.
            </p>
          </main>
        </div>
      )
  }
}
