import { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'

/**
 * Holds a client connection's writes corked until the check phase of the current event-loop turn. Aedes delivers
 * each message in its own tick (and mqtt-packet uncorks on the next tick), so without this every packet is its own
 * `writev` (or, on WebSocket, several frames); with it, everything written to a client in one turn of the loop
 * leaves together. The delay is the rest of the turn: no timer, no added latency beyond it.
 */
export function coalesceWrites (stream: Socket | Duplex): void {
  let held = false
  const cork = stream.cork.bind(stream)
  const release = (): void => {
    held = false
    if (!stream.destroyed) stream.uncork()
  }
  const write = stream.write.bind(stream) as (...args: Parameters<Socket['write']>) => boolean
  stream.write = ((...args: Parameters<Socket['write']>): boolean => {
    if (!held && !stream.destroyed) {
      held = true
      cork()
      setImmediate(release)
    }
    return write(...args)
  }) as Socket['write']
  // mqtt-packet corks a stream that has `cork` for each packet and uncorks it on the next tick: a nextTick per
  // packet that this turn-long cork makes pointless. Without the method it writes straight into this one.
  ;(stream as { cork?: unknown }).cork = undefined
}

/** TCP: Nagle's algorithm would hold a small batch back until the peer's (delayed, up to 40 ms) ACK of the last. */
export function coalesceSocketWrites (socket: Socket): void {
  socket.setNoDelay(true)
  writeBatchAsOneBuffer(socket)
  coalesceWrites(socket)
}

interface Chunk { chunk: Buffer | string, encoding: BufferEncoding }
type SocketWrite = (this: Socket, chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void) => void
// eslint-disable-next-line @typescript-eslint/unbound-method -- called with the socket as `this` below
const socketWrite = Socket.prototype._write as SocketWrite

/**
 * A corked turn's writes leave as one buffer instead of a `writev` of every piece: mqtt-packet writes a PUBLISH
 * in four or five pieces, so a turn of 200 heartbeats was a writev of ~1 000 iovecs, and handing the kernel that
 * many small pieces (and Node building them into a list) cost more than copying them into one buffer.
 */
function writeBatchAsOneBuffer (socket: Socket): void {
  const writable = socket as unknown as { _writev: (chunks: Chunk[], cb: (err?: Error | null) => void) => void }
  writable._writev = function (this: Socket, chunks, cb) {
    const parts: Buffer[] = []
    for (const { chunk, encoding } of chunks) parts.push(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk)
    socketWrite.call(this, Buffer.concat(parts), 'buffer' as BufferEncoding, cb)
  }
}

/**
 * MQTT over WebSocket: what the stream flushes at once (a corked turn's packets, each written by mqtt-packet in
 * several chunks) goes out as one binary frame instead of one frame per chunk. MQTT allows packets to span frames
 * and frames to hold several packets.
 */
export function coalesceWebSocketWrites (stream: Duplex, ws: WebSocket): void {
  const writable = stream as Duplex & { _writev: (chunks: Array<{ chunk: Buffer | string }>, cb: (err?: Error | null) => void) => void }
  writable._writev = (chunks, cb) => {
    const parts: Buffer[] = []
    for (const { chunk } of chunks) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
    const data = Buffer.concat(parts)
    if (ws.readyState !== ws.OPEN) {
      cb(new Error('WebSocket is not open'))
      return
    }
    ws.send(data, { binary: true }, cb)
  }
  coalesceWrites(stream)
}
