import { ColonyError } from '../errors.js'
import { checkWorkerCount, DEFAULT_WORKER_PAGE, parseWorkerCursor, type WorkerListQuery } from '../store/index.js'
import { parseFilterJson, parseFilterStrings } from './filter.js'

/** `GET .../workers` query parameters as they arrive (strings; `filter` may repeat). */
export interface WorkerListParams {
  filter?: string | readonly string[]
  cursor?: string
  count?: string | number
}

/** `POST .../workers/find` body: Golem's tagged filter, its `{layer, cursor}` cursor, a count. */
export interface WorkerFindBody {
  filter?: unknown
  cursor?: unknown
  count?: unknown
}

/** A page size; from a query string it arrives as text, in a JSON body it must be a number. */
function count (value: unknown, text: boolean): number {
  if (value === undefined) return DEFAULT_WORKER_PAGE
  if (typeof value === 'string' && (!text || !/^\d{1,9}$/.test(value))) {
    throw new ColonyError('invalid_count', `count must be an integer from 1 to 1000, not ${JSON.stringify(value)}`)
  }
  return checkWorkerCount(typeof value === 'string' ? Number(value) : value)
}

/** Checks the query of `GET .../workers` into a WorkerListQuery (400 invalid_filter / invalid_cursor / invalid_count). */
export function workerListQuery (params: WorkerListParams): WorkerListQuery {
  const query: WorkerListQuery = { count: count(params.count, true) }
  const filter = parseFilterStrings(params.filter)
  if (filter !== undefined) query.filter = filter
  // Checked here so a bad cursor fails before any work (the store checks it again when it pages).
  if (params.cursor !== undefined) {
    parseWorkerCursor(params.cursor)
    query.cursor = params.cursor
  }
  return query
}

/** Checks the body of `POST .../workers/find`. A null filter or cursor is the same as none. */
export function workerFindQuery (body: WorkerFindBody): WorkerListQuery {
  const query: WorkerListQuery = { count: count(body.count ?? undefined, false) }
  if (body.filter !== undefined && body.filter !== null) query.filter = parseFilterJson(body.filter)
  if (body.cursor !== undefined && body.cursor !== null) {
    const c = body.cursor
    if (typeof c !== 'string' && (typeof c !== 'object' || Array.isArray(c))) {
      throw new ColonyError('invalid_cursor', 'cursor must be {layer, cursor} or "<layer>/<cursor>"')
    }
    const cursor = c as string | { layer: number, cursor: number }
    parseWorkerCursor(cursor)
    query.cursor = cursor
  }
  return query
}
