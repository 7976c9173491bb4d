import type { Clock } from '../clock.js'
import type { Logger } from '../log.js'
import type { RetainedRow } from '../store/index.js'
import { isAgentsTopic, isSystemTopic } from '../wire/topics.js'

/** Where retained messages are kept: the store's table and its transactions. */
export interface RetainedStorage {
  retained: { put(m: RetainedRow): void, all(): RetainedRow[] }
  transaction<T>(fn: () => T): T
}

/**
 * Topics whose retained messages outlive the process: everything clients own. The runtime's `agents/` and
 * `system/` topics are rebuilt by the runtime itself (a dead actor's retained status must not come back), and
 * `$`-topics are the broker's.
 */
export function isDurableTopic (topic: string): boolean {
  return !isAgentsTopic(topic) && !isSystemTopic(topic) && !topic.startsWith('$')
}

interface Pending { row: RetainedRow, done: (err?: Error) => void }

/**
 * Writes the retained messages clients publish to SQLite before the broker takes them (and so before a QoS 1
 * PUBACK). Writes are grouped: everything published within one turn of the event loop is committed in one
 * transaction (one fsync under `synchronous=FULL`), then each publish goes on, in the order it arrived.
 */
export class RetainedJournal {
  private pending: Pending[] = []
  private scheduled = false
  /** Messages written and transactions committed, for metrics and the benchmark. */
  written = 0
  commits = 0

  constructor (private readonly storage: RetainedStorage, private readonly clock: Clock, private readonly log: Logger) {}

  record (topic: string, payload: Buffer, qos: 0 | 1 | 2, done: (err?: Error) => void): void {
    this.pending.push({ row: { topic, payload, qos, updatedAtMs: this.clock.now() }, done })
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => this.flush())
  }

  /** Commits what is pending now (also called on shutdown, so nothing accepted is left behind). */
  flush (): void {
    this.scheduled = false
    const batch = this.pending
    if (batch.length === 0) return
    this.pending = []
    let failure: Error | undefined
    try {
      this.storage.transaction(() => { for (const p of batch) this.storage.retained.put(p.row) })
      this.written += batch.length
      this.commits++
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err))
      this.log.error({ err: failure, messages: batch.length }, 'could not store retained messages; their publishers are disconnected')
    }
    for (const p of batch) p.done(failure)
  }

  /** Every stored message, to give the broker at start-up. */
  load (): RetainedRow[] {
    return this.storage.retained.all()
  }
}
