import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'

type WriteCallback = (err?: Error | null) => void

/**
 * How much one turn may hold before writes answer false, when the stream's own high-water mark is lower: 64 KiB,
 * the default Node 22 gives streams. At 16 KiB (Node 20's) a turn of 200 heartbeats to one subscriber (~30 KB)
 * sent every writer past the mark into a wait for 'drain' that came right after the batch was written.
 */
const TURN_BYTES = 64 * 1024

/**
 * Holds a client connection's writes until the check phase of the current event-loop turn, then hands them to
 * the stream as one buffer. Aedes delivers each message in its own tick and mqtt-packet writes a PUBLISH in four
 * or five pieces, so without this every piece went through the stream's bookkeeping and every packet was its
 * own `writev`; with it, everything written to a client in one turn leaves in one write. The delay is the rest of
 * the turn: no timer, no added latency beyond it.
 *
 * Back-pressure stays the stream's: a write answers false once the turn's bytes reach the high-water mark (at least
 * TURN_BYTES), or while the stream waits for 'drain'; either way a 'drain' follows.
 * `end()` sends what is held first; after destroy or end, writes go straight to the stream and fail as usual.
 */
export function coalesceWrites (stream: Socket | Duplex): void {
  const write = stream.write.bind(stream) as (chunk: Buffer, cb?: WriteCallback) => boolean
  const end = stream.end.bind(stream) as (...args: unknown[]) => Socket | Duplex
  const limit = Math.max(stream.writableHighWaterMark, TURN_BYTES)
  let held: Buffer[] = []
  let heldBytes = 0
  let callbacks: WriteCallback[] | undefined
  /** A write of this batch answered false, so a writer waits for 'drain'. */
  let refused = false
  const flush = (): void => {
    if (held.length === 0) return
    const batch = held.length === 1 ? held[0] as Buffer : Buffer.concat(held, heldBytes)
    const waiting = callbacks
    held = []
    heldBytes = 0
    callbacks = undefined
    write(batch, waiting === undefined ? undefined : (err) => { for (const cb of waiting) cb(err) })
    // The stream emits 'drain' only if its own write answered false; a socket that handed the whole batch to the
    // kernel at once answers true, and a writer we refused would wait forever. Then the drain is ours to emit.
    if (refused) {
      refused = false
      if (!stream.writableNeedDrain && !stream.destroyed) process.nextTick(() => stream.emit('drain'))
    }
  }
  stream.write = ((chunk: Buffer | Uint8Array | string, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean => {
    if (typeof encoding === 'function') {
      cb = encoding
      encoding = undefined
    }
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (stream.destroyed || stream.writableEnded) return write(buf, cb)
    if (held.length === 0) setImmediate(flush)
    held.push(buf)
    heldBytes += buf.length
    if (cb !== undefined) (callbacks ??= []).push(cb)
    const accepted = heldBytes < limit && !stream.writableNeedDrain
    if (!accepted) refused = true
    return accepted
  }) as Socket['write']
  stream.end = ((...args: unknown[]) => {
    flush()
    return end(...args)
  }) as Socket['end']
  // mqtt-packet corks a stream that has `cork` for each packet and uncorks it on the next tick: a nextTick per
  // packet that holding the turn's writes makes pointless. Without the method it writes straight into this one.
  ;(stream as { cork?: unknown }).cork = undefined
}

/** TCP: Nagle's algorithm would hold a small batch back until the peer's (delayed, up to 40 ms) ACK of the last. */
export function coalesceSocketWrites (socket: Socket): void {
  socket.setNoDelay(true)
  coalesceWrites(socket)
}

/**
 * MQTT over WebSocket: a turn's packets (held by `coalesceWrites`) go out as one binary frame, and so do batches
 * that queued up behind a send still in progress, instead of one frame each. MQTT allows packets to span frames
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
