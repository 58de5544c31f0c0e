// Hardening (issue 25) with the stock `ws` library: what a client that is still sending sees when the
// server refuses one of its messages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { TestServer, rawSocket } from './harness.mjs';

let server;
before(async () => { server = await TestServer.start({ extraArgs: ['--max-message-bytes', String(1 << 20)] }); });
after(async () => { await server?.stop(); });

/** Keeps sending `chunk` (without queueing more than 1 MB in the client) until the socket closes. */
function keepSending(ws, chunk) {
  let sent = 0;
  const pump = () => {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount < (1 << 20)) { ws.send(chunk); sent++; }
    setImmediate(pump);
  };
  pump();
  return () => sent;
}

/** An update message `[0, 2, len, payload]` of about `size` bytes (never decoded for a view token). */
function updateFrame(size) {
  const payload = Buffer.alloc(size, 7);
  const len = [];
  for (let n = size; ; n >>>= 7) { if (n < 0x80) { len.push(n); break; } len.push((n & 0x7f) | 0x80); }
  return Buffer.concat([Buffer.from([0, 2, ...len]), payload]);
}

// Item 10: without a clean close (close frame, then reading what the client still sends for a
// moment) the server's close raced the client's writes into a reset, and the client saw 1006, so the
// stock client reconnected and resent its oversized edit again and again.
test('a client still sending after an oversized message sees 4413, not 1006', async () => {
  const { room, tokens } = await server.createRoom();
  const s = rawSocket(`${server.ws}/${room}?token=${tokens.view}`);
  await s.opened;
  s.ws.send(updateFrame(4 << 20));
  const sent = keepSending(s.ws, updateFrame(64 << 10));
  const { code } = await s.closed;
  assert.equal(code, 4413, `close code after ${sent()} more messages`);
});

test('a client still sending after a malformed message sees 4400, not 1006', async () => {
  const { room, tokens } = await server.createRoom();
  const s = rawSocket(`${server.ws}/${room}?token=${tokens.view}`);
  await s.opened;
  s.ws.send(Buffer.from([9]));
  s.ws.send(updateFrame(900 << 10));
  const sent = keepSending(s.ws, updateFrame(256 << 10));
  const { code } = await s.closed;
  assert.equal(code, 4400, `close code after ${sent()} more messages`);
});
