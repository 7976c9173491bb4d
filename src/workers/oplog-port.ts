/**
 * What a durable worker needs of its oplog, bound to that one worker: the store and the group-committing writer
 * behind it are shared by every worker.
 */
import type { OplogEntry } from './oplog-entries.js'
import type { IndexedEntry } from './oplog-reader.js'

/** What an idempotency key answers with once its invocation completed: the stored success or error. */
export type InvocationResult =
  | { ok: true, function: string, result: { typ: unknown, value: unknown[] } }
  | { ok: false, error: { code: string, message: string } }

/** The idempotency index row an append writes in the same transaction as its entries. */
export type InvocationMark =
  | { idempotencyKey: string, state: 'pending', functionName: string, params: unknown[] }
  | { idempotencyKey: string, state: 'completed', result: InvocationResult }

export interface PendingInvocation { idempotencyKey: string, functionName: string, params: unknown[] }

export interface WorkerSnapshot { oplogIndex: number, componentVersion: number, bytes: Uint8Array }

export interface WorkerOplog {
  /** Appends entries (indexes assigned now); resolves once they are durable, with the first and last index. */
  append (entries: OplogEntry[], mark?: InvocationMark): Promise<{ firstIndex: number, lastIndex: number }>
  /** Resolves once everything appended so far is durable. */
  flushed (): Promise<void>
  /** The index of the last appended entry (0 before the Create entry). */
  lastIndex (): number
  /** Entries from `from` on, in order, read lazily in chunks. */
  read (from: number): Iterable<IndexedEntry>
  /** Fire-and-forget invocations made durable and not run yet, oldest first. */
  pending (): PendingInvocation[]
  /** A completed invocation's stored result. */
  completed (idempotencyKey: string): InvocationResult | undefined
  /** The latest snapshot, if it was taken under `componentVersion`. */
  latestSnapshot (componentVersion: number): WorkerSnapshot | undefined
  /** Stores a snapshot of the state after entry `oplogIndex` (its version is the one in force there). */
  putSnapshot (oplogIndex: number, bytes: Uint8Array): void
}
