import type Database from 'better-sqlite3'
import { ColonyError } from '../errors.js'
import type { Db } from './db.js'
import { filterSql, type WorkerFilter, type WorkerStatus } from './worker-filter.js'

/** One entry of a worker's `updates` (Golem's UpdateRecord): what happened to an update to `targetVersion`. */
export interface UpdateRecord {
  type: 'PendingUpdate' | 'SuccessfulUpdate' | 'FailedUpdate'
  /** ISO 8601. */
  timestamp: string
  targetVersion: number
  details?: string
}

/** A durable worker's row; `seq` is its key in the oplog, invocation and snapshot tables. */
export interface WorkerRecord {
  seq: number
  componentId: string
  name: string
  /** The team of its component; null for a worker of a host-owned component. */
  teamId: string | null
  componentVersion: number
  args: string[]
  env: Record<string, string>
  /** The last recorded status (Golem's precise=false). */
  status: WorkerStatus
  createdAtMs: number
  retryCount: number
  lastError: string | null
  updates: UpdateRecord[]
  /** Plugin installation ids active on the worker. */
  activePlugins: string[]
}

export type NewWorker = Pick<WorkerRecord, 'componentId' | 'name' | 'teamId' | 'componentVersion' | 'args' | 'env' | 'createdAtMs'>
  & Partial<Pick<WorkerRecord, 'status' | 'activePlugins'>>

export type WorkerPatch = Partial<Pick<WorkerRecord, 'status' | 'componentVersion' | 'retryCount' | 'lastError' | 'updates' | 'activePlugins'>>

export interface WorkerListQuery {
  filter?: WorkerFilter
  /** Golem's `<layer>/<cursor>` string, or its `{layer, cursor}` object; absent: from the start. */
  cursor?: string | { layer: number, cursor: number }
  /** 1..1000, default 50 (Golem's default). */
  count?: number
}

export interface WorkerPage {
  rows: WorkerRecord[]
  /** Where the next page starts (`0/<seq>`); absent when this page is the last. */
  cursor?: string
}

export const DEFAULT_WORKER_PAGE = 50
export const MAX_WORKER_PAGE = 1000

interface Row {
  seq: number, component_id: string, name: string, team_id: string | null, component_version: number, args: string, env: string,
  status: WorkerStatus, created_at: number, retry_count: number, last_error: string | null, updates: string, active_plugins: string
}

const toRecord = (r: Row): WorkerRecord => ({
  seq: r.seq,
  componentId: r.component_id,
  name: r.name,
  teamId: r.team_id,
  componentVersion: r.component_version,
  args: JSON.parse(r.args) as string[],
  env: JSON.parse(r.env) as Record<string, string>,
  status: r.status,
  createdAtMs: r.created_at,
  retryCount: r.retry_count,
  lastError: r.last_error,
  updates: JSON.parse(r.updates) as UpdateRecord[],
  activePlugins: JSON.parse(r.active_plugins) as string[],
})

const PATCH_COLUMNS: Record<keyof WorkerPatch, { column: string, json: boolean }> = {
  status: { column: 'status', json: false },
  componentVersion: { column: 'component_version', json: false },
  retryCount: { column: 'retry_count', json: false },
  lastError: { column: 'last_error', json: false },
  updates: { column: 'updates', json: true },
  activePlugins: { column: 'active_plugins', json: true },
}

/**
 * Reads a list cursor. Only layer 0 exists here (one store, not Golem's sharded layers); the cursor is the seq of
 * the last worker already returned, so inserts and deletes between pages neither repeat nor skip a worker.
 */
export function parseWorkerCursor (cursor: string | { layer: number, cursor: number }): number {
  let layer: unknown
  let seq: unknown
  if (typeof cursor === 'string') {
    const m = /^(\d{1,9})\/(\d{1,15})$/.exec(cursor)
    if (m === null) throw new ColonyError('invalid_cursor', `cursor "${cursor}" is not <layer>/<cursor> (e.g. 0/42)`)
    layer = Number(m[1])
    seq = Number(m[2])
  } else if (typeof cursor === 'object' && cursor !== null) {
    layer = cursor.layer
    seq = cursor.cursor
  }
  if (layer !== 0 || !Number.isSafeInteger(seq) || (seq as number) < 0) {
    throw new ColonyError('invalid_cursor', `cursor ${JSON.stringify(cursor)} is not one this server gave out (layer 0, a non-negative cursor)`)
  }
  return seq as number
}

/** Checks a page size: an integer 1..1000. */
export function checkWorkerCount (count: unknown): number {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_WORKER_PAGE) {
    throw new ColonyError('invalid_count', `count must be an integer from 1 to ${MAX_WORKER_PAGE}, not ${JSON.stringify(count)}`)
  }
  return count
}

/** Durable workers' rows. Deleting one deletes its oplog, idempotency keys and snapshot (foreign keys cascade). */
export class WorkerStore {
  private readonly stmts
  private readonly updateStmts = new Map<string, Database.Statement<unknown[], Row>>()

  constructor (private readonly db: Db) {
    this.stmts = {
      insert: db.prepare<unknown[], Row>(`INSERT INTO workers (component_id, name, team_id, component_version, args, env, status, created_at, active_plugins)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (component_id, name) DO NOTHING RETURNING *`),
      get: db.prepare<[string, string], Row>('SELECT * FROM workers WHERE component_id = ? AND name = ?'),
      bySeq: db.prepare<[number], Row>('SELECT * FROM workers WHERE seq = ?'),
      remove: db.prepare('DELETE FROM workers WHERE component_id = ? AND name = ?'),
      removeComponent: db.prepare<[string], { seq: number }>('DELETE FROM workers WHERE component_id = ? RETURNING seq'),
      all: db.prepare<[], Row>('SELECT * FROM workers ORDER BY seq'),
      byStatus: db.prepare<[string], Row>('SELECT * FROM workers WHERE status = ? ORDER BY seq'),
    }
  }

  /** Creates a worker; a second one with the same component and name is `worker_already_exists`. */
  insert (w: NewWorker): WorkerRecord {
    const row = this.stmts.insert.get(w.componentId, w.name, w.teamId, w.componentVersion, JSON.stringify(w.args), JSON.stringify(w.env),
      w.status ?? 'Idle', w.createdAtMs, JSON.stringify(w.activePlugins ?? []))
    if (row === undefined) {
      throw new ColonyError('worker_already_exists', `worker "${w.name}" of component ${w.componentId} already exists`,
        { details: { componentId: w.componentId, workerName: w.name } })
    }
    return toRecord(row)
  }

  get (componentId: string, name: string): WorkerRecord | undefined {
    const row = this.stmts.get.get(componentId, name)
    return row === undefined ? undefined : toRecord(row)
  }

  getBySeq (seq: number): WorkerRecord | undefined {
    const row = this.stmts.bySeq.get(seq)
    return row === undefined ? undefined : toRecord(row)
  }

  /** Changes the given fields and returns the row as it is now; undefined when there is no such worker. */
  update (componentId: string, name: string, patch: WorkerPatch): WorkerRecord | undefined {
    const sets: string[] = []
    const params: Array<string | number | null> = []
    for (const [key, value] of Object.entries(patch) as Array<[keyof WorkerPatch, unknown]>) {
      const col = PATCH_COLUMNS[key]
      if (col === undefined || value === undefined) continue
      sets.push(`${col.column} = ?`)
      params.push(col.json ? JSON.stringify(value) : value as string | number | null)
    }
    if (sets.length === 0) return this.get(componentId, name)
    // Few shapes exist (one per set of patched fields), and better-sqlite3 caches nothing: keep them.
    const sql = `UPDATE workers SET ${sets.join(', ')} WHERE component_id = ? AND name = ? RETURNING *`
    let stmt = this.updateStmts.get(sql)
    if (stmt === undefined) {
      stmt = this.db.prepare<unknown[], Row>(sql)
      this.updateStmts.set(sql, stmt)
    }
    const row = stmt.get(...params, componentId, name)
    return row === undefined ? undefined : toRecord(row)
  }

  /** Deletes a worker with its oplog, keys and snapshot; false when there was none. */
  delete (componentId: string, name: string): boolean {
    return this.stmts.remove.run(componentId, name).changes > 0
  }

  /** Deletes every worker of a component (the component is gone); returns their seqs. */
  deleteComponent (componentId: string): number[] {
    return this.stmts.removeComponent.all(componentId).map((r) => r.seq)
  }

  /** A page of a component's workers in creation order, filtered in SQL. */
  list (componentId: string, query: WorkerListQuery = {}): WorkerPage {
    const count = checkWorkerCount(query.count ?? DEFAULT_WORKER_PAGE)
    const after = query.cursor === undefined ? 0 : parseWorkerCursor(query.cursor)
    const cond = query.filter === undefined ? { sql: '1', params: [] } : filterSql(query.filter)
    // Filters are built from a handful of shapes but their SQL differs with each And/Or nesting: not cached.
    const rows = this.db.prepare<unknown[], Row>(
      `SELECT * FROM workers WHERE component_id = ? AND seq > ? AND (${cond.sql}) ORDER BY seq LIMIT ?`,
    ).all(componentId, after, ...cond.params, count + 1)
    const more = rows.length > count
    const page = (more ? rows.slice(0, count) : rows).map(toRecord)
    const last = page.at(-1)
    return more && last !== undefined ? { rows: page, cursor: `0/${last.seq}` } : { rows: page }
  }

  /** Every worker in creation order (start-up recovery). */
  listAll (): WorkerRecord[] {
    return this.stmts.all.all().map(toRecord)
  }

  /** The workers last recorded with this status, in creation order (e.g. the Running ones to recover eagerly). */
  listByStatus (status: WorkerStatus): WorkerRecord[] {
    return this.stmts.byStatus.all(status).map(toRecord)
  }
}
