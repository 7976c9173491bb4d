/**
 * What the worker service needs of the workers' rows and oplog pages (the store behind it is SQLite).
 */
import type { WorkerRef, WorkerRowPatch } from './durable-worker.js'
import type { PluginInstallation } from './oplog-entries.js'
import type { UpdateRecord, WorkerListQuery, WorkerStatus } from '../store/index.js'

export interface WorkerRow extends WorkerRef {
  teamId: string | null
  componentVersion: number
  args: string[]
  env: Record<string, string>
  status: WorkerStatus
  createdAt: number
  retryCount: number
  lastError?: string | null | undefined
  updates: UpdateRecord[]
  activePlugins: string[]
  componentSize: number
}

export interface NewWorker extends WorkerRef {
  teamId: string | null
  componentVersion: number
  args: string[]
  env: Record<string, string>
  createdAt: number
  componentSize: number
  /** The component's plugin installations, active from the start (Golem's Create.initialActivePlugins). */
  plugins: PluginInstallation[]
}

export interface WorkerPage { rows: WorkerRow[], cursor?: { layer: number, cursor: number } }

export interface OplogPageQuery { from?: number | undefined, count: number, cursor?: string | undefined }
export interface OplogPage {
  entries: Array<{ oplogIndex: number, entry: unknown }>
  next?: { nextOplogIndex: number, currentComponentVersion: number }
  firstIndexInChunk: number
  lastIndex: number
}

export interface WorkerRows {
  /** Inserts the row and appends its Create entry (duplicate: `worker_already_exists`). */
  insert (row: NewWorker): WorkerRow
  get (componentId: string, workerName: string): WorkerRow | undefined
  update (componentId: string, workerName: string, patch: WorkerRowPatch & { activePlugins?: string[] }): void
  /** The row with its oplog, idempotency keys and snapshots. */
  delete (componentId: string, workerName: string): void
  list (componentId: string, query: WorkerListQuery): WorkerPage
  ofComponent (componentId: string): WorkerRow[]
  all (): WorkerRow[]
  /** Workers with fire-and-forget calls acknowledged and not run yet. */
  withPendingInvocations (): WorkerRow[]
  oplogPage (ref: WorkerRef, query: OplogPageQuery): OplogPage
}
