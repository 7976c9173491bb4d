import { ColonyError } from '../errors.js'
import type { InvocationUpsert, OplogGroup, OplogRow, OplogStore } from '../store/index.js'
import type { OplogEntry } from './oplog-entries.js'

/** What an append changes about an idempotency key, in the same transaction as its entries. */
export interface InvocationMark {
  idempotencyKey: string
  state: 'pending' | 'completed'
  /** The stored outcome of a completed key (success or error), any JSON value: a repeated key answers with it. */
  result?: unknown
}

export interface AppendOptions { invocation?: InvocationMark }

/** The indexes an append was given: firstIndex..lastIndex, consecutive. */
export interface AppendResult { firstIndex: number, lastIndex: number }

export interface OplogWriterStats {
  appends: number
  entries: number
  /** Batch transactions committed. */
  commits: number
  /** Batch transactions that failed (all of their appends were rejected). */
  failedCommits: number
  /** The most appends one transaction carried. */
  largestBatch: number
}

interface Pending {
  worker: number
  rows: OplogRow[]
  invocation: InvocationUpsert | undefined
  result: AppendResult
  resolve: (r: AppendResult) => void
  reject: (err: Error) => void
}

/** The index, within `rows`, of the last entry of one of `types`; undefined when none is there. */
function indexOf (entries: readonly OplogEntry[], first: number, types: ReadonlyArray<OplogEntry['type']>, last: boolean): number | undefined {
  const order = last ? [...entries.keys()].reverse() : [...entries.keys()]
  for (const i of order) if (types.includes(entries[i]!.type)) return first + i
  return undefined
}

/**
 * The durable oplog's single writer, with group commit. `append` gives its entries their indexes at once
 * (strictly increasing per worker, 1 being the Create entry, as in Golem), and resolves only after the
 * transaction holding them committed (durable under `synchronous=FULL`). Every append made in the same turn of
 * the event loop, by any worker, goes into one transaction: a SQLite commit blocks the thread, so what arrives
 * while one runs waits for the next turn and forms the next batch.
 *
 * Failures leave no hole: if the transaction fails, every append of the batch is rejected and each worker's next
 * index falls back to the last one stored, so the next append continues right after what is durable. A worker
 * whose own rows fail (deleted under its appends) fails alone; the others in the batch still commit.
 * One writer per database: two would hand out the same indexes.
 */
export class OplogWriter {
  readonly stats: OplogWriterStats = { appends: 0, entries: 0, commits: 0, failedCommits: 0, largestBatch: 0 }
  /** The last index handed out per worker (stored or pending). */
  private readonly assigned = new Map<number, number>()
  private pending: Pending[] = []
  private scheduled = false

  constructor (private readonly store: OplogStore) {}

  /** Appends `entries` to worker `worker` (its seq) and resolves with their indexes once they are durable. */
  append (worker: number, entries: readonly OplogEntry[], options: AppendOptions = {}): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.enqueue(worker, entries, options, resolve, reject)
      if (this.scheduled) return
      this.scheduled = true
      setImmediate(() => this.flush())
    })
  }

  /**
   * Appends and commits before returning, together with whatever else is pending (for rare control entries where
   * the caller cannot wait for a turn). Throws what `append` would reject with.
   */
  appendNow (worker: number, entries: readonly OplogEntry[], options: AppendOptions = {}): AppendResult {
    let outcome: { ok: AppendResult } | { err: Error } | undefined
    this.enqueue(worker, entries, options, (ok) => { outcome = { ok } }, (err) => { outcome = { err } })
    this.flush()
    if (outcome === undefined) throw new Error('oplog append was not settled by its flush')
    if ('err' in outcome) throw outcome.err
    return outcome.ok
  }

  /** The last index handed out to the worker (durable or pending); 0 for an empty oplog. */
  lastIndex (worker: number): number {
    return this.assigned.get(worker) ?? this.store.lastIndex(worker)
  }

  /** Drops what the writer remembers of a worker (it was deleted, or left memory for good). */
  forget (worker: number): void {
    this.assigned.delete(worker)
  }

  /** Commits everything pending now (also on shutdown, so nothing accepted is left behind). */
  flush (): void {
    this.scheduled = false
    const batch = this.pending
    if (batch.length === 0) return
    this.pending = []
    const groups = new Map<number, OplogGroup>()
    const members = new Map<number, Pending[]>()
    for (const p of batch) {
      let g = groups.get(p.worker)
      if (g === undefined) {
        g = { worker: p.worker, rows: [], invocations: [] }
        groups.set(p.worker, g)
        members.set(p.worker, [])
      }
      g.rows.push(...p.rows)
      if (p.invocation !== undefined) g.invocations.push(p.invocation)
      members.get(p.worker)!.push(p)
    }
    const list = [...groups.values()]
    let failures: Array<Error | undefined>
    try {
      failures = this.store.appendBatch(list)
    } catch (err) {
      this.stats.failedCommits++
      const failure = new ColonyError('oplog_write_failed', `the oplog batch could not be committed: ${(err as Error).message}`, { cause: err })
      for (const g of list) this.assigned.delete(g.worker)
      for (const p of batch) p.reject(failure)
      return
    }
    this.stats.commits++
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length)
    list.forEach((g, i) => {
      const err = failures[i]
      const ps = members.get(g.worker)!
      if (err === undefined) {
        this.stats.appends += ps.length
        this.stats.entries += g.rows.length
        for (const p of ps) p.resolve(p.result)
        return
      }
      // Only this worker's rows were rolled back: its counter goes back to what is stored.
      this.assigned.delete(g.worker)
      const gone = (err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY'
      const failure = gone
        ? new ColonyError('worker_not_found', `worker ${g.worker} no longer exists; its oplog entries were not written`, { cause: err })
        : new ColonyError('oplog_write_failed', `the oplog entries of worker ${g.worker} could not be written: ${err.message}`, { cause: err })
      for (const p of ps) p.reject(failure)
    })
  }

  private enqueue (worker: number, entries: readonly OplogEntry[], options: AppendOptions,
    resolve: (r: AppendResult) => void, reject: (err: Error) => void): void {
    if (entries.length === 0) throw new TypeError('an oplog append needs at least one entry')
    // Serialized now: a caller changing its objects later cannot change what is written, and a value JSON cannot
    // hold throws here, before any index is taken.
    const texts = entries.map((e) => JSON.stringify(e))
    const first = this.lastIndex(worker) + 1
    entries.forEach((e, i) => {
      if ((first + i === 1) !== (e.type === 'Create')) {
        throw new TypeError(`oplog index ${first + i} of worker ${worker} cannot be a ${e.type} entry: index 1, and only it, is Create`)
      }
    })
    const result = { firstIndex: first, lastIndex: first + entries.length - 1 }
    this.assigned.set(worker, result.lastIndex)
    let invocation: InvocationUpsert | undefined
    const mark = options.invocation
    if (mark !== undefined) {
      invocation = { idempotencyKey: mark.idempotencyKey, state: mark.state }
      const invoked = indexOf(entries, first, ['ExportedFunctionInvoked'], false)
      if (mark.state === 'pending') invocation.invokedIndex = invoked ?? first
      else {
        if (invoked !== undefined) invocation.invokedIndex = invoked
        invocation.completedIndex = indexOf(entries, first, ['ExportedFunctionCompleted', 'Error'], true) ?? result.lastIndex
        invocation.result = JSON.stringify(mark.result ?? null)
      }
    }
    this.pending.push({ worker, rows: texts.map((entry, i) => ({ idx: first + i, entry })), invocation, result, resolve, reject })
  }
}
