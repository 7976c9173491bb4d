import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'

/** Above this many bytes waiting in the socket, a client is slow: we stop writing and let its queue fill. */
const SOCKET_HIGH_WATER = 1 << 20
/** Frames written per flush per client, so one fast client cannot hog a flush. */
const MAX_FRAMES_PER_FLUSH = 4096
/** A queue this long is written at once instead of waiting for the timer (bursts between two flush ticks). */
export const EAGER_FLUSH_FRAMES = 256

export interface StreamClientOptions {
  maxQueued: number
  overflow: 'drop' | 'close'
  matches: (topic: string, payload: Buffer) => boolean
  /** The payload this client gets instead, when it may see only part of a message (see Acl.view). */
  view?: (topic: string, payload: Buffer) => Buffer | undefined
}

/**
 * One `/ws` subscriber: a bounded queue of pre-serialized frames, written in batches under one cork so many
 * small frames cost one syscall. A client that does not read never stalls the others: its socket buffer
 * fills, we stop writing to it, and its queue overflows — oldest frames are dropped and counted (it is told
 * how many when it catches up), or, with `overflow: close`, it is closed with 1013.
 */
export class StreamClient {
  private queue: string[] = []
  private head = 0
  dropped = 0
  private unreported = 0
  sent = 0
  closed = false
  /** The API key this stream authenticated with: revoking it closes the stream. */
  keyId: string | undefined

  constructor (
    readonly ws: WebSocket,
    private readonly socket: Duplex,
    private readonly options: StreamClientOptions,
  ) {}

  get pending (): number {
    return this.queue.length - this.head
  }

  /** Queues a frame if the client's filters match; returns true if the client now has something to flush. */
  offer (topic: string, payload: Buffer, frame: (viewed?: Buffer) => string): boolean {
    if (this.closed || !this.options.matches(topic, payload)) return false
    const viewed = this.options.view?.(topic, payload)
    if (this.pending >= this.options.maxQueued) {
      if (this.options.overflow === 'close') {
        this.close(1013, `slow consumer: ${this.options.maxQueued} messages queued`)
        return false
      }
      this.head++
      this.dropped++
      this.unreported++
    }
    this.queue.push(frame(viewed))
    return true
  }

  /** Writes what the socket can take now; returns true if frames are left for a later flush. */
  flush (now: number): boolean {
    if (this.closed) return false
    if (this.socket.writableLength > SOCKET_HIGH_WATER) return this.pending > 0
    const end = Math.min(this.queue.length, this.head + MAX_FRAMES_PER_FLUSH)
    this.socket.cork()
    try {
      if (this.unreported > 0) {
        this.ws.send(JSON.stringify({ topic: '$colony/ws/dropped', payload: { dropped: this.unreported, totalDropped: this.dropped, timestampMs: now } }))
        this.unreported = 0
      }
      for (let i = this.head; i < end; i++) this.ws.send(this.queue[i] as string)
    } finally {
      this.socket.uncork()
    }
    this.sent += end - this.head
    this.head = end
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    } else if (this.head > 8192) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    return this.pending > 0
  }

  close (code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    this.queue = []
    this.head = 0
    this.ws.close(code, reason)
  }
}
