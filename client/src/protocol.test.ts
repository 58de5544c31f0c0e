import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import * as encoding from 'lib0/encoding'
import { WebSocketServer, WebSocket as NodeWebSocket } from 'ws'
import { WebsocketProvider } from 'y-websocket'
import {
  MESSAGE_TIERBOARD,
  SavedTracker,
  bytesToBase64,
  describeClose,
  isSaved,
  isTerminalClose,
  parseServerMessage,
  parseValidation,
  registerTierboardHandler,
  wsServerUrl,
  type ServerMessage,
} from './protocol'
import { addNode } from './schema'
import { VALIDATION } from './testing/fixtures'

const RESULT = VALIDATION

describe('type-100 messages', () => {
  it('parses each documented message', () => {
    expect(parseServerMessage('{"type":"session","room":"r","role":"view","problem":"p"}')).toEqual({
      type: 'session',
      room: 'r',
      role: 'view',
      mode: 'practice',
      problem: 'p',
    })
    expect(parseServerMessage('{"type":"session","room":"r","role":"host","mode":"interview","problem":"p"}')).toMatchObject({
      role: 'host',
      mode: 'interview',
    })
    const v = parseServerMessage(JSON.stringify({ type: 'validation', result: RESULT }))
    expect(v).toEqual({ type: 'validation', result: RESULT })
    expect(parseServerMessage('{"type":"saved","sv":"AA=="}')).toEqual({ type: 'saved', sv: 'AA==' })
    expect(parseServerMessage('{"type":"error","code":"read_only","message":"view token"}')).toEqual({
      type: 'error',
      code: 'read_only',
      message: 'view token',
    })
  })

  it('rejects what is not a message', () => {
    expect(parseServerMessage('not json')).toBeNull()
    expect(parseServerMessage('[]')).toBeNull()
    expect(parseServerMessage('{"type":"mystery"}')).toBeNull()
    expect(parseServerMessage('{"type":"session","role":"admin"}')).toBeNull()
    expect(parseServerMessage('{"type":"saved","sv":3}')).toBeNull()
    expect(parseServerMessage('{"type":"validation","result":{"tiers":"no"}}')).toBeNull()
  })

  it('normalises a partial validation result', () => {
    const r = parseValidation({ tiers: [{ id: 'T0', reached: true, rules: [{ text: 'x', nodes: ['a', 3] }] }] })!
    expect(r.reached).toBe(1)
    expect(r.tiers[0].rules[0]).toEqual({ text: 'x', kind: '', passed: false, explanation: '', nodes: ['a'] })
    expect(r.advisories).toEqual([])
  })
})

describe('saved state', () => {
  it('compares the stored clock for the own client id', () => {
    expect(isSaved(new Map([[7, 5]]), new Map([[7, 5]]), 7)).toBe(true)
    expect(isSaved(new Map([[7, 6]]), new Map([[7, 5]]), 7)).toBe(true)
    expect(isSaved(new Map([[7, 4]]), new Map([[7, 5]]), 7)).toBe(false)
    expect(isSaved(new Map(), new Map([[7, 5]]), 7)).toBe(false)
    // others' clocks do not matter
    expect(
      isSaved(
        new Map([[7, 5]]),
        new Map([
          [7, 5],
          [9, 100],
        ]),
        7,
      ),
    ).toBe(true)
    expect(isSaved(new Map(), new Map([[9, 100]]), 7)).toBe(true)
  })

  it('follows a document through edits and saved messages', () => {
    const doc = new Y.Doc()
    const t = new SavedTracker(doc)
    expect(t.saved()).toBe(true) // no own edits yet
    addNode(doc, { type: 'app' })
    expect(t.saved()).toBe(false) // the server has not said anything
    const stored = bytesToBase64(Y.encodeStateVector(doc))
    addNode(doc, { type: 'db_primary' })
    expect(t.onSaved(stored)).toBe(false) // the second edit is not stored yet
    expect(t.onSaved(bytesToBase64(Y.encodeStateVector(doc)))).toBe(true)
    expect(t.onSaved('%%%')).toBeNull()
  })
})

describe('connection helpers', () => {
  it('builds the provider URL from the page origin', () => {
    expect(wsServerUrl({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/ws')
    expect(wsServerUrl({ protocol: 'https:', host: 'tierboard.example' })).toBe('wss://tierboard.example/ws')
  })

  it('knows which close codes are final', () => {
    expect(isTerminalClose(4401)).toBe(true)
    expect(isTerminalClose(4404)).toBe(true)
    expect(isTerminalClose(4000)).toBe(false)
    expect(isTerminalClose(1001)).toBe(false)
    expect(describeClose(4401)).toMatch(/token/)
    expect(describeClose(4999)).toBe('connection closed (4999)')
  })
})

describe('handler on the stock provider', () => {
  let server: WebSocketServer | null = null
  let provider: WebsocketProvider | null = null
  afterEach(async () => {
    provider?.destroy()
    await new Promise((r) => (server ? server.close(r) : r(null)))
  })

  it('receives type-100 frames from a real WebSocket', async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    const urls: string[] = []
    server.on('connection', (ws, req) => {
      urls.push(req.url ?? '')
      for (const m of [
        { type: 'session', room: 'room1', role: 'edit', problem: 'tutorial-simple-blog' },
        { type: 'validation', result: RESULT },
      ]) {
        const e = encoding.createEncoder()
        encoding.writeVarUint(e, MESSAGE_TIERBOARD)
        encoding.writeVarString(e, JSON.stringify(m))
        ws.send(encoding.toUint8Array(e))
      }
    })
    await new Promise((r) => server!.once('listening', r))
    const port = (server.address() as { port: number }).port
    const got: ServerMessage[] = []
    const done = new Promise<void>((resolve) => {
      provider = new WebsocketProvider(`ws://127.0.0.1:${port}/ws`, 'room1', new Y.Doc(), {
        params: { token: 'tok' },
        WebSocketPolyfill: NodeWebSocket as unknown as typeof WebSocket,
        disableBc: true,
        connect: false,
      })
      registerTierboardHandler(provider, (m) => {
        got.push(m)
        if (got.length === 2) resolve()
      })
      provider.connect()
    })
    await done
    expect(urls[0]).toBe('/ws/room1?token=tok')
    expect(got.map((m) => m.type)).toEqual(['session', 'validation'])
    expect(got[1]).toEqual({ type: 'validation', result: RESULT })
  })
})
