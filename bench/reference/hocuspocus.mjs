// Hocuspocus as the benchmark runs it (issue 26): `@hocuspocus/server` with its SQLite extension, on
// 127.0.0.1:$PORT, storing documents in $HOCUSPOCUS_DB.
//
// Left at Hocuspocus's defaults: documents are stored through the SQLite extension after 2 s without
// changes (at most every 10 s while edits continue), awareness is kept and broadcast per document,
// every applied update is acknowledged with a SyncStatus message. Changed: `timeout` (60 s by default:
// a connection that sent nothing for that long is dropped; the stock provider renews its awareness
// every 15 s, the generator's idle clients of scenario 4 send nothing) and `quiet` (no banner).
import { Server } from '@hocuspocus/server';
import { SQLite } from '@hocuspocus/extension-sqlite';

const port = Number(process.env.PORT ?? 1234);
const database = process.env.HOCUSPOCUS_DB;
if (!database) {
  console.error('HOCUSPOCUS_DB must name the SQLite file');
  process.exit(2);
}

const server = new Server({
  address: process.env.HOST ?? '127.0.0.1',
  port,
  quiet: true,
  timeout: 3_600_000,
  extensions: [new SQLite({ database })],
});
await server.listen();
console.log(`hocuspocus listening on ${server.address.address}:${server.address.port}`);
