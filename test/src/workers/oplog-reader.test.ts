import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ColonyError } from '../../../src/errors.js'
import { Store } from '../../../src/store/index.js'
import { Oplog, type OplogEntry } from '../../../src/workers/oplog-entries.js'
import { OplogReader, formatOplogCursor, parseOplogCursor, type OplogPageQuery } from '../../../src/workers/oplog-reader.js'
import { OplogWriter } from '../../../src/workers/oplog-writer.js'

describe('OplogReader (Golem oplog pages and the recovery stream)', () => {
  let dir: string
  let store: Store
  let writer: OplogWriter
  let reader: OplogReader
  let seq: number

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'colony-oplog-reader-'))
    store = Store.open({ file: join(dir, 'colony.db'), synchronous: 'normal' })
    writer = new OplogWriter(store.oplog)
    reader = new OplogReader(store.oplog)
    seq = store.workers.insert({ componentId: 'comp', name: 'w', teamId: null, componentVersion: 3, args: [], env: {}, createdAtMs: 1 }).seq
    // 1 Create(v3), 2..5 logs, 6 PendingUpdate, 7 SuccessfulUpdate(v4), 8..10 logs
    const entries: OplogEntry[] = [
      Oplog.create({ workerId: { componentId: 'comp', workerName: 'w' }, componentVersion: 3, accountId: 'a', componentSize: 1, initialTotalLinearMemorySize: 1 }, 0),
      ...[2, 3, 4, 5].map((i) => Oplog.log('Info', 'ctx', `m${i}`, i)),
      Oplog.pendingUpdate(4, { type: 'Automatic' }, 6),
      Oplog.successfulUpdate(4, 99, [], 7),
      ...[8, 9, 10].map((i) => Oplog.log('Info', 'ctx', `m${i}`, i)),
    ]
    writer.appendNow(seq, entries)
  })
  afterEach(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const indexes = (q: OplogPageQuery): number[] => reader.page(seq, q).entries.map((e) => e.oplogIndex)

  it('pages in Golem\'s shape: entries with their index, next cursor, firstIndexInChunk, lastIndex', () => {
    const page = reader.page(seq, { count: 3 })
    assert.deepEqual(page, {
      entries: [
        { oplogIndex: 1, entry: { type: 'Create', timestamp: '1970-01-01T00:00:00.000Z', workerId: { componentId: 'comp', workerName: 'w' }, componentVersion: 3, args: [], env: {}, accountId: 'a', parent: null, componentSize: 1, initialTotalLinearMemorySize: 1, initialActivePlugins: [] } },
        { oplogIndex: 2, entry: { type: 'Log', timestamp: '1970-01-01T00:00:00.002Z', level: 'Info', context: 'ctx', message: 'm2' } },
        { oplogIndex: 3, entry: { type: 'Log', timestamp: '1970-01-01T00:00:00.003Z', level: 'Info', context: 'ctx', message: 'm3' } },
      ],
      next: { nextOplogIndex: 4, currentComponentVersion: 3 },
      firstIndexInChunk: 1,
      lastIndex: 10,
    })
  })

  it('follows cursors (object and string form) to the end; the version in the cursor follows SuccessfulUpdate', () => {
    const seen: number[] = []
    const versions: number[] = []
    let q: OplogPageQuery = { count: 3 }
    for (;;) {
      const page = reader.page(seq, q)
      seen.push(...page.entries.map((e) => e.oplogIndex))
      if (page.next === undefined) break
      versions.push(page.next.currentComponentVersion)
      // Alternate the two forms a client may send back.
      q = { count: '3', cursor: versions.length % 2 === 0 ? page.next : formatOplogCursor(page.next) }
    }
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    assert.deepEqual(versions, [3, 3, 4], 'after index 3: v3, after 6: v3, after 9: v4')
  })

  it('from: a start index (0 and 1 both mean the start), query strings accepted; the version before it is looked up', () => {
    assert.deepEqual(indexes({ from: 0, count: 2 }), [1, 2])
    assert.deepEqual(indexes({ from: '1', count: 2 }), [1, 2])
    assert.deepEqual(indexes({ from: 8, count: 100 }), [8, 9, 10])
    assert.equal(reader.page(seq, { from: 8, count: 100 }).next, undefined, 'the last page has no next')
    assert.deepEqual(reader.page(seq, { from: 7, count: 1 }).next, { nextOplogIndex: 8, currentComponentVersion: 4 })
    assert.deepEqual(reader.page(seq, { from: 5, count: 1 }).next, { nextOplogIndex: 6, currentComponentVersion: 3 })
    const past = reader.page(seq, { from: 50, count: 5 })
    assert.deepEqual(past, { entries: [], firstIndexInChunk: 50, lastIndex: 10 })
    assert.deepEqual(reader.page(seq, { from: 10, count: 1 }), { entries: [{ oplogIndex: 10, entry: reader.page(seq, { from: 10, count: 1 }).entries[0]!.entry }], firstIndexInChunk: 10, lastIndex: 10 })
    assert.deepEqual(reader.page(seq, { count: 1000 }).entries.length, 10)
    // A cursor wins over from.
    assert.deepEqual(indexes({ from: 1, count: 2, cursor: '9-4' }), [9, 10])
    assert.equal(reader.versionAt(seq, 0), 0)
    assert.equal(reader.versionAt(seq, 6), 3)
    assert.equal(reader.versionAt(seq, 7), 4)
    assert.equal(reader.versionAt(seq, 1000), 4)
  })

  it('an empty oplog pages as empty', () => {
    const other = store.workers.insert({ componentId: 'comp', name: 'empty', teamId: null, componentVersion: 0, args: [], env: {}, createdAtMs: 1 }).seq
    assert.deepEqual(reader.page(other, { count: 10 }), { entries: [], firstIndexInChunk: 1, lastIndex: 0 })
    assert.deepEqual([...reader.entries(other)], [])
  })

  const bad: Array<[OplogPageQuery, string]> = [
    [{}, 'invalid_count'], [{ count: 0 }, 'invalid_count'], [{ count: 1001 }, 'invalid_count'], [{ count: -1 }, 'invalid_count'],
    [{ count: 1.5 }, 'invalid_count'], [{ count: 'ten' }, 'invalid_count'], [{ count: '' }, 'invalid_count'], [{ count: '1e3' }, 'invalid_count'],
    [{ count: 5, cursor: 'abc' }, 'invalid_cursor'], [{ count: 5, cursor: '0-1' }, 'invalid_cursor'], [{ count: 5, cursor: '5' }, 'invalid_cursor'],
    [{ count: 5, cursor: '5-' }, 'invalid_cursor'], [{ count: 5, cursor: '-5-1' }, 'invalid_cursor'], [{ count: 5, cursor: '5-1-2' }, 'invalid_cursor'],
    [{ count: 5, cursor: { nextOplogIndex: 0, currentComponentVersion: 1 } }, 'invalid_cursor'],
    [{ count: 5, cursor: { nextOplogIndex: 2, currentComponentVersion: -1 } }, 'invalid_cursor'],
    [{ count: 5, cursor: { nextOplogIndex: '2', currentComponentVersion: 1 } as any }, 'invalid_cursor'],
    [{ count: 5, cursor: null as any }, 'invalid_cursor'],
    [{ count: 5, from: -1 }, 'invalid_query'], [{ count: 5, from: 'x' }, 'invalid_query'], [{ count: 5, from: 2.5 }, 'invalid_query'],
  ]
  for (const [q, code] of bad) {
    it(`${JSON.stringify(q)} -> ${code} (400)`, () => {
      assert.throws(() => reader.page(seq, q), (err: unknown) => err instanceof ColonyError && err.code === code && err.status === 400)
    })
  }

  it('parseOplogCursor reads both forms', () => {
    assert.deepEqual(parseOplogCursor('12-3'), { nextOplogIndex: 12, currentComponentVersion: 3 })
    assert.deepEqual(parseOplogCursor({ nextOplogIndex: 12, currentComponentVersion: 3 }), { nextOplogIndex: 12, currentComponentVersion: 3 })
  })

  it('streams every entry from an index in bounded chunks, including ones appended while streaming', () => {
    const big = store.workers.insert({ componentId: 'comp', name: 'big', teamId: null, componentVersion: 0, args: [], env: {}, createdAtMs: 1 }).seq
    writer.appendNow(big, [Oplog.create({ workerId: { componentId: 'comp', workerName: 'big' }, componentVersion: 0, accountId: 'a', componentSize: 1, initialTotalLinearMemorySize: 1 })])
    writer.appendNow(big, Array.from({ length: 2499 }, (_, i) => Oplog.log('Info', '', String(i))))
    let reads = 0
    const realRead = store.oplog.read.bind(store.oplog)
    store.oplog.read = (w, from, count) => {
      reads++
      assert.ok(count <= 500)
      return realRead(w, from, count)
    }
    const seen: number[] = []
    for (const { oplogIndex } of reader.entries(big, 1, 500)) {
      seen.push(oplogIndex)
      if (oplogIndex === 2500) writer.appendNow(big, [Oplog.log('Info', '', 'late')])
    }
    assert.deepEqual(seen, Array.from({ length: 2501 }, (_, i) => i + 1))
    assert.equal(reads, 6, '5 full chunks, then the one with the late entry, which is short: the end')
    assert.deepEqual([...reader.entries(big, 2499, 500)].map((e) => e.oplogIndex), [2499, 2500, 2501])
  })
})
