import type { Duplex } from 'node:stream'
import { WebSocket } from 'ws'
import { topics } from '../../src/index.js'
import { textFrame } from './frame.js'
import { FrameRing } from './ring.js'

/**
 * Most of a client's byte budget that may sit in its socket. Frames still in our queue can be dropped when
 * the client falls behind; frames handed to the socket cannot, and each costs the socket more bookkeeping.
 */
const SOCKET_HIGH_WATER = 64 * 1024
/** How long a closed client has to read its backlog and the close frame before its socket is destroyed. */
export const CLOSE_GRACE_MS = 3000
/** Frames written per flush per client, so one fast client cannot hog a flush. */
const MAX_FRAMES_PER_FLUSH = 4096
/** A queue this long is written at once instead of waiting for the timer (bursts between two flush ticks). */
export const EAGER_FLUSH_FRAMES = 256

export interface StreamClientOptions {
  maxQueued: number
  /** Bytes this client may have waiting: frames queued here plus what its socket has not sent yet. */
  maxQueuedBytes: number
  overflow: 'drop' | 'close'
  matches: (topic: string, payload: Buffer) => boolean
  /** The payload this client gets instead, when it may see only part of a message (see Acl.view). */
  view?: (topic: string, payload: Buffer) => Buffer | undefined
}

/**
 * One `/ws` subscriber: a queue of pre-serialized frames bounded in count and in bytes (its socket's buffer
 * included), written in batches under one cork so many small frames cost one syscall. Frames are Buffers
 * shared by every client that gets the same message, so a thousand slow clients hold one copy of a frame,
 * not a thousand. A client that does not read never stalls the others: its socket buffer fills, we stop
 * writing to it, and its queue overflows — oldest frames are dropped and counted (it is told how many when
 * it catches up), or, with `overflow: close`, it is closed with 1013. `overSince` says since when it has been
 * losing frames without catching up; the bridge closes it (1013) when that lasts too long.
 */
export class StreamClient {
  private readonly queue = new FrameRing()
  private queuedBytes = 0
  private readonly highWater: number
  dropped = 0
  private unreported = 0
  sent = 0
  closed = false
  /** Since when (ms) this client has been over its budget, losing frames, without catching up. */
  overSince: number | undefined
  /** The API key this stream authenticated with: revoking it closes the stream. */
  keyId: string | undefined

  constructor (
    readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly options: StreamClientOptions,
  ) {
    this.highWater = Math.max(1, Math.min(SOCKET_HIGH_WATER, Math.floor(options.maxQueuedBytes / 2)))
  }

  get pending (): number {
    return this.queue.size
  }

  /** Bytes waiting for this client: queued here and buffered in its socket. */
  get bufferedBytes (): number {
    return this.queuedBytes + this.ws.bufferedAmount
  }

  /** Queues a frame if the client's filters match; returns true if the client now has something to flush. */
  offer (topic: string, payload: Buffer, frame: (viewed?: Buffer) => Buffer, now: number): boolean {
    if (this.closed || !this.options.matches(topic, payload)) return false
    const f = frame(this.options.view?.(topic, payload))
    // Hot path (every message x every client): no closures, no allocation but the queue slot.
    const room = this.options.maxQueuedBytes - this.ws.bufferedAmount - f.length
    if (this.pending < this.options.maxQueued && this.queuedBytes <= room) {
      this.queue.push(f)
      this.queuedBytes += f.length
      return true
    }
    if (this.options.overflow === 'close') {
      this.close(1013, `slow consumer: over ${this.options.maxQueued} messages or ${this.options.maxQueuedBytes} bytes waiting`)
      return false
    }
    this.overSince ??= now
    while (this.pending > 0 && (this.pending >= this.options.maxQueued || this.queuedBytes > room)) this.dropOldest()
    // A frame larger than the whole budget still reaches a client that has nothing else waiting.
    if (this.queuedBytes <= room || (this.pending === 0 && this.ws.bufferedAmount === 0)) {
      this.queue.push(f)
      this.queuedBytes += f.length
    } else {
      this.countDropped()
    }
    return this.pending > 0
  }

  /** Writes what the socket can take now; returns true if frames are left for a later flush. */
  flush (now: number): boolean {
    // Once ws is closing (either side), no data frame may follow the close frame.
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return false
    if (this.ws.bufferedAmount >= this.highWater) return this.pending > 0
    let written = 0
    this.socket.cork()
    try {
      if (this.unreported > 0) {
        this.socket.write(textFrame(JSON.stringify({ topic: topics.wsDropped, payload: { dropped: this.unreported, totalDropped: this.dropped, timestampMs: now } })))
        this.unreported = 0
      }
      // Whole pre-built frames straight to the socket (see textFrame); ws's own frames (close, ping, pong)
      // are whole frames too, so the two never interleave inside a frame.
      while (written < MAX_FRAMES_PER_FLUSH && this.queue.size > 0 && this.ws.bufferedAmount < this.highWater) {
        const f = this.queue.shift() as Buffer
        this.queuedBytes -= f.length
        this.socket.write(f)
        written++
      }
    } finally {
      this.socket.uncork()
    }
    this.sent += written
    this.checkCaughtUp()
    return this.pending > 0
  }

  /**
   * Clears `overSince` once nothing is queued and the socket is below its high-water mark; true if the client
   * is not over its budget (any more). Checked by flushes, and by the sweeper for a client nobody flushes
   * because no new message came while its socket drained.
   */
  checkCaughtUp (): boolean {
    if (this.pending === 0 && this.ws.bufferedAmount < this.highWater) this.overSince = undefined
    return this.overSince === undefined
  }

  /**
   * Sends a close frame and releases the queue. A client that does not read will never see that frame behind
   * its backlog, so whoever has not completed the close within CLOSE_GRACE_MS is cut off (ws itself waits 30 s,
   * holding the socket's buffer all that time).
   */
  close (code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    this.queue.clear()
    this.queuedBytes = 0
    this.overSince = undefined
    this.ws.close(code, reason)
    const cut = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref()
    this.ws.once('close', () => clearTimeout(cut))
  }

  private dropOldest (): void {
    this.queuedBytes -= (this.queue.shift() as Buffer).length
    this.countDropped()
  }

  private countDropped (): void {
    this.dropped++
    this.unreported++
  }
}
