// IndexedDB for the offline-persistence tests (y-indexeddb) when they run outside a browser.
import 'fake-indexeddb/auto'
