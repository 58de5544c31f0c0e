/** The client's root: picks the page for the current route. */
import { lazy, Suspense } from 'react'
import { Browser } from './browser/Browser'
import { ProblemPage } from './browser/ProblemPage'
import { linkClick, useRoute } from './router'
import { TopBar } from './TopBar'
import { prefetchReport } from './report/prefetch'

// The room (React Flow, Yjs, IndexedDB) loads only when a room is opened.
const Room = lazy(() => import('./room/Room').then((m) => ({ default: m.Room })))
const ReportPage = lazy(() => import('./report/ReportPage').then((m) => ({ default: m.ReportPage })))

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
    case 'report':
      // The report's request runs while the page's chunk loads (once per page load).
      prefetchReport(route.room, location.hash)
      return (
        <Suspense fallback={<p className="muted pad">Opening the report…</p>}>
          <ReportPage key={route.room} room={route.room} />
        </Suspense>
      )
    default:
      return (
        <div className="page">
          <TopBar />
          <main className="content narrow">
            <h1>Not found</h1>
            <p>
              Nothing lives at <code>{route.path}</code>.{' '}
              <a href="/" onClick={linkClick('/')}>
                Browse the problems
              </a>
              .
            </p>
          </main>
        </div>
      )
  }
}
