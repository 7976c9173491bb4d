/**
 * What a worker's `/connect` stream carries: Golem's worker events, serialized the way its executor does (serde's
 * externally tagged enum: `{"StdOut": {...}}`), and the last events of each worker kept for a client that joins late.
 */
import { EventEmitter } from 'node:events'

export type LogLevel = 'Trace' | 'Debug' | 'Info' | 'Warn' | 'Error' | 'Critical'

export type WorkerEvent =
  | { StdOut: { timestamp: string, bytes: number[] } }
  | { StdErr: { timestamp: string, bytes: number[] } }
  | { Log: { timestamp: string, level: LogLevel, context: string, message: string } }
  | { InvocationStart: { timestamp: string, function: string, idempotency_key: string } }
  | { InvocationFinished: { timestamp: string, function: string, idempotency_key: string } }

/** Golem's executor keeps this many events per worker and replays them to a subscriber that joins. */
export const EVENT_HISTORY = 128

export const workerEvents = {
  output: (stream: 'stdout' | 'stderr', text: string, at: Date): WorkerEvent => {
    const body = { timestamp: at.toISOString(), bytes: [...Buffer.from(text, 'utf8')] }
    return stream === 'stdout' ? { StdOut: body } : { StdErr: body }
  },
  log: (level: LogLevel, context: string, message: string, at: Date): WorkerEvent =>
    ({ Log: { timestamp: at.toISOString(), level, context, message } }),
  invocationStart: (fn: string, key: string, at: Date): WorkerEvent =>
    ({ InvocationStart: { timestamp: at.toISOString(), function: fn, idempotency_key: key } }),
  invocationFinished: (fn: string, key: string, at: Date): WorkerEvent =>
    ({ InvocationFinished: { timestamp: at.toISOString(), function: fn, idempotency_key: key } }),
}

interface Channel { history: WorkerEvent[], live: EventEmitter<{ event: [WorkerEvent] }> }

/**
 * Events per worker (keyed by the worker's actor id), independent of whether the worker is in memory: an idle
 * worker that left memory and came back keeps its history, as a client watching it expects.
 */
export class WorkerEventHub {
  private readonly channels = new Map<string, Channel>()

  private channel (key: string): Channel {
    let c = this.channels.get(key)
    if (c === undefined) {
      c = { history: [], live: new EventEmitter() }
      c.live.setMaxListeners(0)
      this.channels.set(key, c)
    }
    return c
  }

  emit (key: string, event: WorkerEvent): void {
    const c = this.channel(key)
    c.history.push(event)
    if (c.history.length > EVENT_HISTORY) c.history.splice(0, c.history.length - EVENT_HISTORY)
    c.live.emit('event', event)
  }

  /** The history so far, then every new event until the returned function is called. */
  subscribe (key: string, listener: (event: WorkerEvent) => void): { history: WorkerEvent[], unsubscribe: () => void } {
    const c = this.channel(key)
    c.live.on('event', listener)
    return { history: [...c.history], unsubscribe: () => { c.live.off('event', listener) } }
  }

  /** A deleted worker's history goes with it. */
  forget (key: string): void {
    this.channels.get(key)?.live.removeAllListeners()
    this.channels.delete(key)
  }
}
