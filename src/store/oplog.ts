import type { Db } from './db.js'

/** One stored oplog entry: its index (1 = Create) and the entry's JSON text. */
export interface OplogRow { idx: number, entry: string }

export type InvocationState = 'pending' | 'completed'

/** An idempotency key of a worker: answers a repeated invocation without reading the oplog. */
export interface InvocationRecord {
  workerSeq: number
  idempotencyKey: string
  state: InvocationState
  /** Index of its ExportedFunctionInvoked entry. */
  invokedIndex: number | null
  /** Index of the entry that completed it (ExportedFunctionCompleted or Error). */
  completedIndex: number | null
  /** The stored outcome (success or error) as JSON text; null while pending. */
  result: string | null
}

export interface InvocationUpsert {
  idempotencyKey: string
  state: InvocationState
  /** Set on the first write of a key; a later write keeps the first one. */
  invokedIndex?: number
  completedIndex?: number
  result?: string
}

/** What one worker appends in one batch: rows with consecutive indexes, and its idempotency-key changes. */
export interface OplogGroup {
  worker: number
  rows: OplogRow[]
  invocations: InvocationUpsert[]
}

export interface SnapshotRecord { workerSeq: number, coversIndex: number, bytes: Buffer, createdAtMs: number }

interface InvocationRow {
  worker_seq: number, idempotency_key: string, state: InvocationState, invoked_index: number | null, completed_index: number | null, result: string | null
}

const toInvocation = (r: InvocationRow): InvocationRecord => ({
  workerSeq: r.worker_seq, idempotencyKey: r.idempotency_key, state: r.state, invokedIndex: r.invoked_index, completedIndex: r.completed_index, result: r.result,
})

/** SQLite's constraint failures: the ones that concern one worker (e.g. it was deleted), not the whole batch. */
function isConstraintError (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')
}

/**
 * The durable workers' oplog tables, low level: SQL only. Indexes, batching and the meaning of entries are the
 * oplog writer's (src/workers/oplog-writer.ts); this only stores what it is given, atomically.
 */
export class OplogStore {
  /** Batch transactions committed by appendBatch (tests and the benchmark count them). */
  commits = 0
  private readonly stmts
  private readonly batchTx
  private readonly groupTx

  constructor (db: Db) {
    this.stmts = {
      insert: db.prepare('INSERT INTO worker_oplog (worker_seq, idx, entry) VALUES (?, ?, ?)'),
      read: db.prepare<[number, number, number], OplogRow>('SELECT idx, entry FROM worker_oplog WHERE worker_seq = ? AND idx >= ? ORDER BY idx LIMIT ?'),
      last: db.prepare<[number], { idx: number | null }>('SELECT MAX(idx) AS idx FROM worker_oplog WHERE worker_seq = ?'),
      // Matches the partial index worker_oplog_versions exactly; INDEXED BY makes SQLite use it (without statistics it
      // would walk the primary key back to the Create entry) and fail at prepare time if it ever could not.
      versionAt: db.prepare<[number, number], OplogRow>(`SELECT idx, entry FROM worker_oplog INDEXED BY worker_oplog_versions
        WHERE worker_seq = ? AND idx <= ? AND json_extract(entry, '$.type') IN ('Create', 'SuccessfulUpdate') ORDER BY idx DESC LIMIT 1`),
      upsertInvocation: db.prepare(`INSERT INTO worker_invocations (worker_seq, idempotency_key, state, invoked_index, completed_index, result)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (worker_seq, idempotency_key) DO UPDATE SET state = excluded.state,
          invoked_index = COALESCE(worker_invocations.invoked_index, excluded.invoked_index),
          completed_index = COALESCE(excluded.completed_index, worker_invocations.completed_index),
          result = COALESCE(excluded.result, worker_invocations.result)`),
      invocation: db.prepare<[number, string], InvocationRow>('SELECT * FROM worker_invocations WHERE worker_seq = ? AND idempotency_key = ?'),
      pending: db.prepare<[number], InvocationRow>("SELECT * FROM worker_invocations WHERE worker_seq = ? AND state = 'pending' ORDER BY invoked_index"),
      deleteInvocation: db.prepare('DELETE FROM worker_invocations WHERE worker_seq = ? AND idempotency_key = ?'),
      putSnapshot: db.prepare(`INSERT INTO worker_snapshots (worker_seq, covers_index, bytes, created_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (worker_seq) DO UPDATE SET covers_index = excluded.covers_index, bytes = excluded.bytes, created_at = excluded.created_at`),
      snapshot: db.prepare<[number], { worker_seq: number, covers_index: number, bytes: Buffer, created_at: number }>(
        'SELECT * FROM worker_snapshots WHERE worker_seq = ?'),
    }
    this.groupTx = db.transaction((g: OplogGroup): void => {
      for (const r of g.rows) this.stmts.insert.run(g.worker, r.idx, r.entry)
      for (const i of g.invocations) this.upsert(g.worker, i)
    })
    this.batchTx = db.transaction((groups: OplogGroup[]): Array<Error | undefined> => groups.map((g) => {
      try {
        // A savepoint per worker: a worker deleted under its appends fails alone, the others still commit.
        this.groupTx(g)
        return undefined
      } catch (err) {
        if (!isConstraintError(err)) throw err
        return err as Error
      }
    }))
  }

  /**
   * Writes many workers' entries in ONE transaction (one fsync under synchronous=FULL). Returns, per group, the
   * constraint error that rolled that group back (undefined: written); throws when the transaction itself failed,
   * in which case nothing of any group was written.
   */
  appendBatch (groups: OplogGroup[]): Array<Error | undefined> {
    const results = this.batchTx.immediate(groups)
    this.commits++
    return results
  }

  /** Up to `count` entries from index `from` on, in index order. */
  read (worker: number, from: number, count: number): OplogRow[] {
    return this.stmts.read.all(worker, from, count)
  }

  /** The highest stored index; 0 for a worker with no entry. */
  lastIndex (worker: number): number {
    return this.stmts.last.get(worker)?.idx ?? 0
  }

  /** The last Create or SuccessfulUpdate entry at or before `idx`: what sets the component version in force there. */
  versionEntryAt (worker: number, idx: number): OplogRow | undefined {
    return this.stmts.versionAt.get(worker, idx)
  }

  invocation (worker: number, idempotencyKey: string): InvocationRecord | undefined {
    const row = this.stmts.invocation.get(worker, idempotencyKey)
    return row === undefined ? undefined : toInvocation(row)
  }

  /** The keys invoked and not completed, in invocation order (what recovery must drive again). */
  pendingInvocations (worker: number): InvocationRecord[] {
    return this.stmts.pending.all(worker).map(toInvocation)
  }

  /** Writes one key outside a batch (its own transaction). */
  putInvocation (worker: number, i: InvocationUpsert): void {
    this.upsert(worker, i)
  }

  /** Forgets a key (a queued invocation canceled before it ran). */
  deleteInvocation (worker: number, idempotencyKey: string): boolean {
    return this.stmts.deleteInvocation.run(worker, idempotencyKey).changes > 0
  }

  /** Stores a worker's snapshot, replacing the older one. */
  putSnapshot (worker: number, coversIndex: number, bytes: Uint8Array, createdAtMs: number): void {
    this.stmts.putSnapshot.run(worker, coversIndex, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), createdAtMs)
  }

  latestSnapshot (worker: number): SnapshotRecord | undefined {
    const r = this.stmts.snapshot.get(worker)
    return r === undefined ? undefined : { workerSeq: r.worker_seq, coversIndex: r.covers_index, bytes: r.bytes, createdAtMs: r.created_at }
  }

  private upsert (worker: number, i: InvocationUpsert): void {
    this.stmts.upsertInvocation.run(worker, i.idempotencyKey, i.state, i.invokedIndex ?? null, i.completedIndex ?? null, i.result ?? null)
  }
}
