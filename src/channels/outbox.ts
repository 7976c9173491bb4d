/**
 * The outbox's writes, group-committed: every enqueue, retry and completion made in one turn of the event loop is
 * written in one transaction (one fsync), so a burst of 1 000 alerts costs a few commits, not 1 000. An enqueue
 * resolves once its row is committed: the first attempt is made only then, so a delivery that was attempted is
 * always one a restart finds (or one already finished).
 *
 * Retries and completions are not urgent: losing one to a crash only means the delivery is sent once more (same
 * delivery id), so they wait up to `LAZY_MS` to share a commit with others, and a burst's 2 000 completions cost a
 * handful of fsyncs instead of hundreds.
 */
const LAZY_MS = 50

import type { Channels, DeliveryRecord } from '../store/channels.js'
import type { Logger } from '../log.js'

export class Outbox {
  private enqueue: DeliveryRecord[] = []
  private retry: Array<{ id: string, attempts: number, nextAtMs: number }> = []
  private done: string[] = []
  private waiters: Array<(ok: boolean) => void> = []
  private scheduled: NodeJS.Immediate | undefined
  private lazy: NodeJS.Timeout | undefined
  /** Commits made, and rows they wrote: the bench reports rows per commit. */
  readonly stats = { commits: 0, rows: 0 }

  constructor (private readonly store: Channels, private readonly log: Logger) {}

  /** Resolves true once committed (false if the commit failed: the delivery is then not attempted). */
  add (d: DeliveryRecord): Promise<boolean> {
    this.enqueue.push(d)
    this.scheduled ??= setImmediate(() => this.flush())
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  reschedule (id: string, attempts: number, nextAtMs: number): Promise<boolean> {
    this.retry.push({ id, attempts, nextAtMs })
    return this.committed()
  }

  finish (id: string): Promise<boolean> {
    this.done.push(id)
    return this.committed()
  }

  private committed (): Promise<boolean> {
    this.schedule()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private schedule (): void {
    if (this.scheduled !== undefined) return
    this.lazy ??= setTimeout(() => this.flush(), LAZY_MS)
  }

  /** Writes what is waiting now (also at shutdown, before the store closes). */
  flush (): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled)
    if (this.lazy !== undefined) clearTimeout(this.lazy)
    this.scheduled = undefined
    this.lazy = undefined
    const batch = { enqueue: this.enqueue, retry: this.retry, done: this.done }
    const waiters = this.waiters
    this.enqueue = []
    this.retry = []
    this.done = []
    this.waiters = []
    const rows = batch.enqueue.length + batch.retry.length + batch.done.length
    if (rows === 0) return
    let ok = true
    try {
      this.store.commit(batch)
      this.stats.commits++
      this.stats.rows += rows
    } catch (err) {
      ok = false
      this.log.error({ err: (err as Error).message, rows }, 'the channel outbox could not be written')
    }
    for (const w of waiters) w(ok)
  }
}
