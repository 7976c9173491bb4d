import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { ColonyError } from '../../../src/errors.js'
import { Store } from '../../../src/store/index.js'
import { Oplog, type OplogEntry } from '../../../src/workers/oplog-entries.js'
import { OplogWriter } from '../../../src/workers/oplog-writer.js'

const str = { type: 'Str' }
const u64 = { type: 'U64' }

describe('OplogWriter (group commit)', () => {
  let dir: string
  let store: Store
  let writer: OplogWriter
  const file = (): string => join(dir, 'colony.db')
  const newWorker = (name: string): number =>
    store.workers.insert({ componentId: 'comp', name, teamId: null, componentVersion: 0, args: [], env: {}, createdAtMs: 1 }).seq
  const create = (name: string): OplogEntry =>
    Oplog.create({ workerId: { componentId: 'comp', workerName: name }, componentVersion: 0, accountId: 'team-a', componentSize: 10, initialTotalLinearMemorySize: 65536 })
  const stored = (seq: number): number[] => store.oplog.read(seq, 1, 1_000_000).map((r) => r.idx)

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'colony-oplog-writer-'))
    store = Store.open({ file: file(), synchronous: 'full' })
    writer = new OplogWriter(store.oplog)
  })
  afterEach(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('gives index 1 to Create and consecutive indexes after it, and stores the entries as written', async () => {
    const seq = newWorker('w')
    const first = await writer.append(seq, [create('w')])
    assert.deepEqual(first, { firstIndex: 1, lastIndex: 1 })
    const invoked = Oplog.exportedFunctionInvoked('rpc:counter/api.{inc}', [{ typ: u64, value: 5 }], 'key-1', undefined, 1000)
    const host = Oplog.importedFunctionInvoked('wasi:clocks/wall-clock::now', { typ: { type: 'Tuple', items: [] }, value: [] },
      { typ: u64, value: 17 }, 'ReadLocal', 1001)
    const done = Oplog.exportedFunctionCompleted({ typ: { type: 'Tuple', items: [u64] }, value: [5] }, 0, 1002)
    assert.deepEqual(await writer.append(seq, [invoked, host, done]), { firstIndex: 2, lastIndex: 4 })
    assert.equal(writer.lastIndex(seq), 4)
    const rows = store.oplog.read(seq, 1, 10)
    assert.deepEqual(rows.map((r) => r.idx), [1, 2, 3, 4])
    assert.deepEqual(JSON.parse(rows[2]!.entry), {
      type: 'ImportedFunctionInvoked', timestamp: '1970-01-01T00:00:01.001Z', functionName: 'wasi:clocks/wall-clock::now',
      request: { typ: { type: 'Tuple', items: [] }, value: [] }, response: { typ: u64, value: 17 }, wrappedFunctionType: { type: 'ReadLocal' },
    })
    // A new writer (a restart) continues after what is stored.
    const again = new OplogWriter(store.oplog)
    assert.deepEqual(again.appendNow(seq, [Oplog.log('Info', 'ctx', 'hi')]), { firstIndex: 5, lastIndex: 5 })
  })

  it('refuses malformed appends before taking an index: no entry, Create elsewhere than 1, something else at 1, a value JSON cannot hold', async () => {
    const seq = newWorker('w')
    await assert.rejects(writer.append(seq, []), TypeError)
    await assert.rejects(writer.append(seq, [Oplog.log('Info', '', 'x')]), /index 1, and only it, is Create/)
    await writer.append(seq, [create('w')])
    await assert.rejects(writer.append(seq, [create('w')]), /index 2 of worker/)
    const cyclic: any = { typ: str, value: null }
    cyclic.value = cyclic
    assert.throws(() => writer.appendNow(seq, [Oplog.exportedFunctionCompleted(cyclic)]), TypeError)
    assert.throws(() => Oplog.exportedFunctionInvoked('', [], 'k'), TypeError)
    assert.throws(() => Oplog.pendingUpdate(-1, { type: 'Automatic' }), TypeError)
    assert.throws(() => Oplog.revert(5, 2), TypeError)
    assert.equal(writer.lastIndex(seq), 1)
    assert.deepEqual(await writer.append(seq, [Oplog.interrupted()]), { firstIndex: 2, lastIndex: 2 })
  })

  it('commits the appends of many workers made in one turn in ONE transaction, contiguous per worker, resolved only after the commit', async () => {
    const workers = Array.from({ length: 50 }, (_, i) => newWorker(`w${i}`))
    for (const seq of workers) writer.appendNow(seq, [create(`w${seq}`)])
    const commitsBefore = store.oplog.commits
    let settled = 0
    const appends = workers.flatMap((seq) => [0, 1, 2].map(() => writer.append(seq, [Oplog.log('Info', 'c', 'm'), Oplog.suspend()]).then((r) => {
      settled++
      return r
    })))
    // Nothing is acknowledged before the commit runs (it runs in a later turn), and nothing is written yet.
    await Promise.resolve()
    assert.equal(settled, 0)
    assert.equal(store.oplog.lastIndex(workers[0]!), 1)
    const results = await Promise.all(appends)
    assert.equal(store.oplog.commits - commitsBefore, 1, 'one transaction for 150 appends')
    assert.equal(writer.stats.largestBatch, 150)
    for (const [i, seq] of workers.entries()) {
      assert.deepEqual(results.slice(i * 3, i * 3 + 3), [{ firstIndex: 2, lastIndex: 3 }, { firstIndex: 4, lastIndex: 5 }, { firstIndex: 6, lastIndex: 7 }])
      assert.deepEqual(stored(seq), [1, 2, 3, 4, 5, 6, 7])
    }
  })

  it('stays contiguous under heavy concurrency: 64 workers x 200 appends, each appender awaiting its last', async () => {
    const workers = Array.from({ length: 64 }, (_, i) => newWorker(`w${i}`))
    for (const seq of workers) await writer.append(seq, [create(`w${seq}`)])
    const commitsBefore = store.oplog.commits
    const acknowledged = new Map<number, number[]>()
    await Promise.all(workers.map(async (seq) => {
      for (let i = 0; i < 200; i++) {
        const r = await writer.append(seq, [Oplog.log('Info', 'c', String(i))])
        // Acknowledged means stored: another connection sees it.
        acknowledged.set(seq, [...(acknowledged.get(seq) ?? []), r.lastIndex])
      }
    }))
    const commits = store.oplog.commits - commitsBefore
    assert.ok(commits <= 220, `group commit: ${commits} transactions for 12 800 appends`)
    const other = new Database(file(), { readonly: true })
    try {
      for (const seq of workers) {
        assert.deepEqual(acknowledged.get(seq), Array.from({ length: 200 }, (_, i) => i + 2))
        const idx = other.prepare('SELECT idx FROM worker_oplog WHERE worker_seq = ? ORDER BY idx').all(seq).map((r: any) => r.idx)
        assert.deepEqual(idx, Array.from({ length: 201 }, (_, i) => i + 1))
      }
    } finally {
      other.close()
    }
  })

  it('a failed transaction rejects every append of its batch, writes nothing of it, and the next appends continue without a hole', async () => {
    const a = newWorker('a')
    const b = newWorker('b')
    writer.appendNow(a, [create('a')])
    writer.appendNow(b, [create('b')])
    // Another connection holds the write lock: the batch's transaction cannot start.
    const blocker = new Database(file())
    blocker.pragma('busy_timeout = 0')
    store.db.pragma('busy_timeout = 0')
    blocker.exec('BEGIN IMMEDIATE')
    const batch = [writer.append(a, [Oplog.log('Info', '', '1')]), writer.append(b, [Oplog.log('Info', '', '1')]), writer.append(a, [Oplog.suspend()], { invocation: { idempotencyKey: 'k', state: 'pending' } })]
    const outcomes = await Promise.allSettled(batch)
    blocker.exec('ROLLBACK')
    blocker.close()
    store.db.pragma('busy_timeout = 5000')
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected')
      assert.ok(o.reason instanceof ColonyError)
      assert.equal(o.reason.code, 'oplog_write_failed')
    }
    assert.equal(writer.stats.failedCommits, 1)
    assert.deepEqual(stored(a), [1])
    assert.deepEqual(stored(b), [1])
    assert.equal(store.oplog.invocation(a, 'k'), undefined)
    assert.equal(writer.lastIndex(a), 1, 'the counter fell back to what is stored')
    assert.deepEqual(await writer.append(a, [Oplog.log('Info', '', 'again')]), { firstIndex: 2, lastIndex: 2 })
    assert.deepEqual(await writer.append(b, [Oplog.log('Info', '', 'again')]), { firstIndex: 2, lastIndex: 2 })
    assert.deepEqual(stored(a), [1, 2])
  })

  it('a worker deleted under its appends fails alone (worker_not_found); the others in the batch commit', async () => {
    const a = newWorker('a')
    const b = newWorker('b')
    writer.appendNow(a, [create('a')])
    writer.appendNow(b, [create('b')])
    const pa = writer.append(a, [Oplog.log('Info', '', 'x')])
    const pb = writer.append(b, [Oplog.log('Info', '', 'x')])
    store.workers.delete('comp', 'a')
    await assert.rejects(pa, (err: any) => err.code === 'worker_not_found')
    assert.deepEqual(await pb, { firstIndex: 2, lastIndex: 2 })
    assert.deepEqual(stored(a), [])
    assert.deepEqual(stored(b), [1, 2])
    writer.forget(a)
    assert.equal(writer.lastIndex(a), 0)
  })

  it('records idempotency keys with the entries: pending at the invocation, completed with its result and indexes', async () => {
    const seq = newWorker('w')
    await writer.append(seq, [create('w')])
    await writer.append(seq, [Oplog.exportedFunctionInvoked('inc', [], 'k1')], { invocation: { idempotencyKey: 'k1', state: 'pending' } })
    assert.deepEqual(store.oplog.invocation(seq, 'k1'), { workerSeq: seq, idempotencyKey: 'k1', state: 'pending', invokedIndex: 2, completedIndex: null, result: null })
    assert.deepEqual(store.oplog.pendingInvocations(seq).map((i) => i.idempotencyKey), ['k1'])
    await writer.append(seq, [Oplog.importedFunctionInvoked('wasi:random/random::get-random-u64', { typ: str, value: '' }, { typ: u64, value: 4 }, 'ReadLocal'),
      Oplog.exportedFunctionCompleted({ typ: { type: 'Tuple', items: [u64] }, value: [1] }), Oplog.log('Info', '', 'after')],
    { invocation: { idempotencyKey: 'k1', state: 'completed', result: { ok: { typ: { type: 'Tuple', items: [u64] }, value: [1] } } } })
    const k1 = store.oplog.invocation(seq, 'k1')
    assert.deepEqual({ ...k1, result: JSON.parse(k1?.result ?? 'null') }, {
      workerSeq: seq, idempotencyKey: 'k1', state: 'completed', invokedIndex: 2, completedIndex: 4, result: { ok: { typ: { type: 'Tuple', items: [u64] }, value: [1] } },
    })
    assert.deepEqual(store.oplog.pendingInvocations(seq), [])
    // Invoked and failed in one append: the stored error answers the key.
    await writer.append(seq, [Oplog.exportedFunctionInvoked('inc', [], 'k2'), Oplog.error('trap: unreachable')],
      { invocation: { idempotencyKey: 'k2', state: 'completed', result: { err: 'trap: unreachable' } } })
    const k2 = store.oplog.invocation(seq, 'k2')
    assert.deepEqual([k2?.invokedIndex, k2?.completedIndex, k2?.result], [6, 7, '{"err":"trap: unreachable"}'])
    assert.equal(store.oplog.deleteInvocation(seq, 'k2'), true)
    assert.equal(store.oplog.invocation(seq, 'k2'), undefined)
  })

  it('snapshots: the latest replaces the older one', () => {
    const seq = newWorker('w')
    writer.appendNow(seq, [create('w')])
    assert.equal(store.oplog.latestSnapshot(seq), undefined)
    store.oplog.putSnapshot(seq, 1, new Uint8Array([1, 2, 3]), 10)
    store.oplog.putSnapshot(seq, 1, new Uint8Array([4, 5]).subarray(1), 20)
    assert.deepEqual(store.oplog.latestSnapshot(seq), { workerSeq: seq, coversIndex: 1, bytes: Buffer.from([5]), createdAtMs: 20 })
    assert.equal((store.db.prepare('SELECT COUNT(*) AS n FROM worker_snapshots').get() as any).n, 1)
  })

  it('flush commits what is pending at once (shutdown)', async () => {
    const seq = newWorker('w')
    const p = writer.append(seq, [create('w')])
    writer.flush()
    assert.equal(store.oplog.lastIndex(seq), 1)
    assert.deepEqual(await p, { firstIndex: 1, lastIndex: 1 })
    writer.flush()
  })
})
