import assert from 'node:assert/strict'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { WebSocket, WebSocketServer, createWebSocketStream } from 'ws'
import { coalesceSocketWrites as coalesceWrites, coalesceWebSocketWrites } from '../../../src/broker/coalesce.js'

/** A connected pair on loopback: `server` is the side under test, `client` reads what it sends. */
async function pair (): Promise<{ server: Socket, client: Socket, listener: Server }> {
  const listener = createServer()
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()))
  const accepted = new Promise<Socket>((resolve) => listener.once('connection', resolve))
  const client = connect((listener.address() as { port: number }).port, '127.0.0.1')
  await new Promise<void>((resolve) => client.once('connect', () => resolve()))
  return { server: await accepted, client, listener }
}

/** Counts the writes that reach the kernel: one `_writev` (or `_write`) per flush of the socket's buffer. */
function countFlushes (socket: Socket): { flushes: number, chunks: number } {
  const counts = { flushes: 0, chunks: 0 }
  const internals = socket as unknown as { _writev: (chunks: unknown[], cb: () => void) => void, _write: (...a: unknown[]) => void }
  const writev = internals._writev.bind(socket)
  const write = internals._write.bind(socket)
  internals._writev = (chunks, cb) => { counts.flushes++; counts.chunks += chunks.length; writev(chunks, cb) }
  internals._write = (...a) => { counts.flushes++; counts.chunks++; write(...a) }
  return counts
}

function received (client: Socket, bytes: number): Promise<string> {
  let text = ''
  return new Promise((resolve) => {
    client.on('data', (c: Buffer) => {
      text += c.toString()
      if (text.length >= bytes) resolve(text)
    })
  })
}

/** What mqtt-packet's writeToStream does: cork a stream that can be corked, write the pieces, uncork next tick. */
function mqttPacketLikeWrite (stream: { cork?: () => void, uncork: () => void, write: (chunk: string | Buffer) => boolean }, pieces: Array<string | Buffer>): void {
  if (typeof stream.cork === 'function') {
    stream.cork()
    process.nextTick(() => stream.uncork())
  }
  for (const piece of pieces) stream.write(piece)
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('broker: coalesceWrites', () => {
  let p: Awaited<ReturnType<typeof pair>>
  beforeEach(async () => { p = await pair() })
  afterEach(async () => {
    p.client.destroy()
    p.server.destroy()
    await new Promise<void>((resolve) => p.listener.close(() => resolve()))
  })

  it('writes made in separate ticks of one loop turn leave in one flush, in order', async () => {
    coalesceWrites(p.server)
    const counts = countFlushes(p.server)
    const got = received(p.client, 10)
    // Each write in its own tick, as Aedes delivers; mqtt-packet corks a stream that has `cork` and uncorks it on
    // the next tick, which without coalescing flushes each packet. Coalescing hides `cork` from it.
    assert.equal(typeof p.server.cork, 'undefined', 'mqtt-packet sees no cork (and schedules no tick per packet)')
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve) => process.nextTick(resolve))
      mqttPacketLikeWrite(p.server, [String(i)])
    }
    assert.equal(counts.flushes, 0, 'nothing flushed before the turn ends')
    assert.equal(await got, '0123456789')
    assert.deepEqual(counts, { flushes: 1, chunks: 1 }, 'one buffer, not a writev of pieces')
  })

  it('the next turn\'s writes are a new flush; a write returns false under back-pressure as usual', async () => {
    coalesceWrites(p.server)
    const counts = countFlushes(p.server)
    p.server.write('a')
    await nextTurn()
    p.server.write('b')
    await nextTurn()
    assert.equal(counts.flushes, 2)
    assert.equal(p.server.write(Buffer.alloc(64 * 1024)), false)
  })

  it('end() sends what the turn held first; write callbacks run once the batch is written', async () => {
    coalesceWrites(p.server)
    const got = new Promise<string>((resolve) => {
      let text = ''
      p.client.on('data', (c: Buffer) => { text += c.toString() })
      p.client.on('end', () => resolve(text))
    })
    const written: string[] = []
    p.server.write('held ', () => written.push('held'))
    p.server.write(Buffer.from('bytes '), 'buffer' as BufferEncoding, () => written.push('bytes'))
    assert.deepEqual(written, [], 'nothing written before the turn ends')
    p.server.end('then end')
    assert.equal(await got, 'held bytes then end')
    assert.deepEqual(written, ['held', 'bytes'])
  })

  it('a write answers false once the turn holds the high-water mark, and the batch then brings a drain', async () => {
    coalesceWrites(p.server)
    const half = Buffer.alloc(32 * 1024)
    assert.equal(p.server.write(half), true)
    assert.equal(p.server.write(half), false)
    p.client.resume()
    await new Promise<void>((resolve) => p.server.once('drain', () => resolve()))
  })

  it('a destroyed socket is not written to', async () => {
    coalesceWrites(p.server)
    p.server.write('x')
    p.server.destroy()
    await nextTurn()
    assert.equal(p.server.destroyed, true)
    p.server.write('y', (err) => assert.ok(err !== undefined && err !== null))
    await nextTurn()
  })
})

describe('broker: coalesceWebSocketWrites (MQTT over WebSocket)', () => {
  let wss: WebSocketServer
  let client: WebSocket
  let server: WebSocket

  beforeEach(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve))
    client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`)
    await new Promise<void>((resolve, reject) => { client.once('open', () => resolve()); client.once('error', reject) })
    server = await accepted
  })
  afterEach(async () => {
    client.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })

  it('what one turn writes, in many chunks and ticks, arrives as one binary frame, in order', async () => {
    const stream = createWebSocketStream(server)
    coalesceWebSocketWrites(stream, server)
    const frames: Buffer[] = []
    const got = new Promise<void>((resolve) => client.on('message', (data: Buffer, isBinary: boolean) => {
      assert.equal(isBinary, true)
      frames.push(data)
      if (Buffer.concat(frames).length >= 12) resolve()
    }))
    // Like mqtt-packet: each packet corked, written in pieces (header, topic, payload), uncorked on the next tick.
    for (const packet of [['\x30', 'a/b', 'one'], ['\x30', 'c/d', 'two']]) {
      await new Promise<void>((resolve) => process.nextTick(resolve))
      mqttPacketLikeWrite(stream, packet.map((piece) => Buffer.from(piece)))
    }
    await got
    assert.equal(frames.length, 1)
    assert.equal(frames[0]?.toString(), '\x30a/bone\x30c/dtwo')
    stream.destroy()
  })

  it('a write after the WebSocket closed fails on the stream, it does not throw', async () => {
    const stream = createWebSocketStream(server)
    coalesceWebSocketWrites(stream, server)
    const failed = new Promise<Error>((resolve) => stream.once('error', resolve))
    server.terminate()
    await new Promise((resolve) => setImmediate(resolve))
    stream.write(Buffer.from('late'))
    assert.ok((await failed) instanceof Error)
  })
})
