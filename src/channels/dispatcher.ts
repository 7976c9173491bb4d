/**
 * Delivery, as Wrenn does it: the first attempt at once, a retry 10 s after the first failure and one 30 s after
 * the second (3 attempts), then the delivery is dropped with a warning. Every delivery goes through the outbox in
 * the store first, so a delivery pending at a crash is sent after the restart (at its next time, or at once if that
 * passed). Retries wait on the injected clock. The delivery id is the same on every attempt: the receiver's
 * idempotency key (and Matrix's transaction id).
 */
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { Clock, TimerHandle } from '../clock.js'
import type { Logger } from '../log.js'
import type { ChannelRecord, DeliveryRecord } from '../store/channels.js'
import type { Outbox } from './outbox.js'
import type { Notification } from './notification.js'
import { providerOf } from './providers/index.js'
import { send } from './send.js'

/** Wait after attempt n fails (n = 1, 2); after the third, nothing. */
export const RETRY_DELAYS_MS = [10_000, 30_000] as const
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1
/** Attempts in flight at once; more wait their turn (so the per-attempt timeout measures the receiver, not our queue). */
const MAX_IN_FLIGHT = 32

export interface DispatcherOptions {
  outbox: Outbox
  clock: Clock
  log: Logger
  timeoutMs: number
  /** The channel as it is now (undefined once deleted) and its opened config. */
  channel: (id: string) => { record: ChannelRecord, config: Record<string, string> } | undefined
}

interface Job { row: DeliveryRecord, notification: Notification }

export interface AttemptOutcome { id: string, channelId: string, attempt: number, ok: boolean, final: boolean }

export class Dispatcher {
  private readonly timers = new Map<string, TimerHandle>()
  private readonly ready: Job[] = []
  private inFlight = 0
  private closed = false
  /** Counts for tests and the bench. */
  readonly stats = { delivered: 0, failedAttempts: 0, dropped: 0 }
  /** Every attempt's outcome once it is written down (`final`: no attempt follows): tests and the bench wait on it. */
  readonly events = new EventEmitter<{ attempt: [AttemptOutcome] }>().setMaxListeners(0)

  constructor (private readonly o: DispatcherOptions) {}

  /** A new delivery: written to the outbox, then attempted once committed. */
  deliver (channel: ChannelRecord, notification: Notification): void {
    const now = this.o.clock.now()
    const row: DeliveryRecord = { id: randomUUID(), channelId: channel.id, body: JSON.stringify(notification), attempts: 0, nextAtMs: now, createdAtMs: now }
    void this.o.outbox.add(row).then((ok) => { if (ok) this.enqueue({ row, notification }) })
  }

  /** Start-up: every pending delivery is scheduled again (one whose time passed goes at once). */
  restore (rows: DeliveryRecord[]): void {
    for (const row of rows) {
      let notification: Notification
      try {
        notification = JSON.parse(row.body) as Notification
      } catch {
        void this.o.outbox.finish(row.id)
        continue
      }
      this.at(row.nextAtMs, { row, notification })
    }
  }

  private at (whenMs: number, job: Job): void {
    const wait = whenMs - this.o.clock.now()
    if (wait <= 0) {
      this.enqueue(job)
      return
    }
    this.timers.set(job.row.id, this.o.clock.setTimeout(() => {
      this.timers.delete(job.row.id)
      this.enqueue(job)
    }, wait))
  }

  private enqueue (job: Job): void {
    if (this.closed) return
    this.ready.push(job)
    this.pump()
  }

  private pump (): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.ready.length > 0 && !this.closed) {
      const job = this.ready.shift() as Job
      this.inFlight++
      void this.attempt(job).finally(() => {
        this.inFlight--
        this.pump()
      })
    }
  }

  private async attempt ({ row, notification }: Job): Promise<void> {
    const channel = this.o.channel(row.channelId)
    const provider = channel === undefined ? undefined : providerOf(channel.record.provider)
    if (channel === undefined || provider === undefined) {
      // Deleted since (its rows went with it; this is the in-memory copy).
      void this.o.outbox.finish(row.id)
      return
    }
    const attempt = row.attempts + 1
    const result = await send(provider.request(channel.config, { id: row.id, notification, nowMs: this.o.clock.now() }), this.o.timeoutMs)
    if (this.closed) return // the row stays pending: the next start sends it
    const log = { channel: row.channelId, provider: provider.name, delivery: row.id, event: notification.event, attempt }
    if (result.ok) {
      this.stats.delivered++
      this.o.log.debug(log, 'channel delivery sent')
      // The slot is free now; the outcome is announced once written down.
      void this.o.outbox.finish(row.id).then(() => this.events.emit('attempt', { id: row.id, channelId: row.channelId, attempt, ok: true, final: true }))
      return
    }
    this.stats.failedAttempts++
    // The log names the channel, never its URL or a header: those are secrets.
    if (attempt >= MAX_ATTEMPTS) {
      this.stats.dropped++
      this.o.log.warn({ ...log, error: result.error }, 'channel delivery failed its last attempt; dropped')
      void this.o.outbox.finish(row.id).then(() => this.events.emit('attempt', { id: row.id, channelId: row.channelId, attempt, ok: false, final: true }))
      return
    }
    const next = this.o.clock.now() + (RETRY_DELAYS_MS[attempt - 1] as number)
    this.o.log.info({ ...log, error: result.error, retryInMs: next - this.o.clock.now() }, 'channel delivery failed; will retry')
    const again: DeliveryRecord = { ...row, attempts: attempt, nextAtMs: next }
    this.at(next, { row: again, notification })
    void this.o.outbox.reschedule(row.id, attempt, next).then(() => this.events.emit('attempt', { id: row.id, channelId: row.channelId, attempt, ok: false, final: false }))
  }

  /** Pending deliveries stay in the outbox for the next start. */
  close (): void {
    this.closed = true
    for (const t of this.timers.values()) this.o.clock.clearTimeout(t)
    this.timers.clear()
    this.ready.length = 0
  }
}
