import { ColonyError } from '../errors.js'
import type { OplogStore } from '../store/index.js'
import { versionAfter, type OplogEntry } from './oplog-entries.js'

/** Golem's OplogCursor: where the next page starts and the component version in force there. */
export interface OplogCursor { nextOplogIndex: number, currentComponentVersion: number }

export interface OplogPageQuery {
  /** First index to return (0 and 1 both mean the start); ignored when a cursor is given. Query strings accepted. */
  from?: number | string
  /** Required, as in Golem: 1..MAX_OPLOG_PAGE. Query strings accepted. */
  count?: number | string
  /** `<nextOplogIndex>-<componentVersion>` (the query form) or the `next` object of the previous page. */
  cursor?: string | OplogCursor
}

export interface IndexedEntry { oplogIndex: number, entry: OplogEntry }

/** Golem's GetOplogResponse. */
export interface OplogPage {
  entries: IndexedEntry[]
  /** Present when entries after this page exist. */
  next?: OplogCursor
  /** The index the page starts at (its first entry's, or where it was asked to start when it is empty). */
  firstIndexInChunk: number
  /** The worker's last oplog index (0: empty). */
  lastIndex: number
}

export const MAX_OPLOG_PAGE = 1000
/** Entries read per query while streaming: bounded memory whatever the oplog's length. */
export const OPLOG_STREAM_CHUNK = 500

function integer (value: number | string, what: string, code: 'invalid_count' | 'invalid_cursor' | 'invalid_query'): number {
  const n = typeof value === 'number' ? value : /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(n) || n < 0) throw new ColonyError(code, `${what} must be a non-negative integer, not ${JSON.stringify(value)}`, { details: { parameter: what } })
  return n
}

/** Reads an oplog cursor in either of its forms. */
export function parseOplogCursor (cursor: string | OplogCursor): OplogCursor {
  if (typeof cursor === 'string') {
    const m = /^(\d{1,15})-(\d{1,15})$/.exec(cursor)
    if (m === null) throw new ColonyError('invalid_cursor', `oplog cursor "${cursor}" is not <nextOplogIndex>-<componentVersion>`)
    cursor = { nextOplogIndex: Number(m[1]), currentComponentVersion: Number(m[2]) }
  }
  if (typeof cursor !== 'object' || cursor === null || !Number.isSafeInteger(cursor.nextOplogIndex) || cursor.nextOplogIndex < 1 ||
    !Number.isSafeInteger(cursor.currentComponentVersion) || cursor.currentComponentVersion < 0) {
    throw new ColonyError('invalid_cursor', `oplog cursor ${JSON.stringify(cursor)} is not {nextOplogIndex >= 1, currentComponentVersion >= 0}`)
  }
  return { nextOplogIndex: cursor.nextOplogIndex, currentComponentVersion: cursor.currentComponentVersion }
}

/** The query form of a cursor, for a `cursor=` parameter. */
export function formatOplogCursor (c: OplogCursor): string {
  return `${c.nextOplogIndex}-${c.currentComponentVersion}`
}

/** Reads workers' oplogs: Golem's pages for `GET .../oplog`, and a bounded stream for recovery. */
export class OplogReader {
  constructor (private readonly store: OplogStore) {}

  /** One page in Golem's shape. Bad count, cursor or from: `invalid_count`, `invalid_cursor`, `invalid_query` (400). */
  page (worker: number, query: OplogPageQuery): OplogPage {
    if (query.count === undefined) throw new ColonyError('invalid_count', 'count is required', { details: { parameter: 'count' } })
    const count = integer(query.count, 'count', 'invalid_count')
    if (count < 1 || count > MAX_OPLOG_PAGE) {
      throw new ColonyError('invalid_count', `count must be from 1 to ${MAX_OPLOG_PAGE}, not ${count}`, { details: { parameter: 'count' } })
    }
    let start: number
    let version: number
    if (query.cursor !== undefined) {
      const c = parseOplogCursor(query.cursor)
      start = c.nextOplogIndex
      version = c.currentComponentVersion
    } else {
      start = Math.max(1, query.from === undefined ? 1 : integer(query.from, 'from', 'invalid_query'))
      version = this.versionAt(worker, start - 1)
    }
    const lastIndex = this.store.lastIndex(worker)
    const entries = this.store.read(worker, start, count).map((r) => ({ oplogIndex: r.idx, entry: JSON.parse(r.entry) as OplogEntry }))
    for (const e of entries) version = versionAfter(e.entry, version)
    const page: OplogPage = { entries, firstIndexInChunk: entries[0]?.oplogIndex ?? start, lastIndex }
    const lastRead = entries.at(-1)?.oplogIndex
    if (lastRead !== undefined && lastRead < lastIndex) page.next = { nextOplogIndex: lastRead + 1, currentComponentVersion: version }
    return page
  }

  /** The component version in force after entry `idx` (0 before the Create entry). */
  versionAt (worker: number, idx: number): number {
    if (idx < 1) return 0
    const row = this.store.versionEntryAt(worker, idx)
    return row === undefined ? 0 : versionAfter(JSON.parse(row.entry) as OplogEntry, 0)
  }

  /**
   * Every entry from `from` on, in order, read `chunk` at a time, so replaying 100 000 entries never holds more
   * than one chunk. Entries appended while iterating are included (each chunk starts after the last one read).
   */
  * entries (worker: number, from = 1, chunk = OPLOG_STREAM_CHUNK): Generator<IndexedEntry, void, undefined> {
    let next = Math.max(1, from)
    for (;;) {
      const rows = this.store.read(worker, next, chunk)
      for (const r of rows) yield { oplogIndex: r.idx, entry: JSON.parse(r.entry) as OplogEntry }
      if (rows.length < chunk) return
      next = rows[rows.length - 1]!.idx + 1
    }
  }
}
