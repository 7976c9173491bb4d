import type { Socket } from 'node:net'
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
  const release = (): void => {
    held = false
    if (!stream.destroyed) stream.uncork()
  }
  const write = stream.write.bind(stream) as (...args: Parameters<Socket['write']>) => boolean
  stream.write = ((...args: Parameters<Socket['write']>): boolean => {
    if (!held && !stream.destroyed) {
      held = true
      stream.cork()
      setImmediate(release)
    }
    return write(...args)
  }) as Socket['write']
}

/** TCP: Nagle's algorithm would hold a small batch back until the peer's (delayed, up to 40 ms) ACK of the last. */
export function coalesceSocketWrites (socket: Socket): void {
  socket.setNoDelay(true)
  coalesceWrites(socket)
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
