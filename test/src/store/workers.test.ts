import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { ColonyError } from '../../../src/errors.js'
import { migrate } from '../../../src/store/db.js'
import { MIGRATIONS } from '../../../src/store/migrations.js'
import { Store, type NewWorker, type WorkerRecord } from '../../../src/store/index.js'
import { parseFilterJson, parseFilterStrings } from '../../../src/workers/filter.js'

const COMPONENT = 'c0ffee00-0000-4000-8000-000000000001'

function rejects (fn: () => unknown, code: string, status: number): ColonyError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ColonyError, `expected a ColonyError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    assert.equal(err.status, status)
    return err
  }
  assert.fail(`expected ${code}`)
}

describe('WorkerStore (durable workers, in SQLite)', () => {
  let dir: string
  let store: Store
  const file = (): string => join(dir, 'colony.db')
  const worker = (name: string, extra: Partial<NewWorker> = {}): NewWorker =>
    ({ componentId: COMPONENT, name, teamId: 'team-a', componentVersion: 0, args: [], env: {}, createdAtMs: Date.parse('2024-06-01T00:00:00Z'), ...extra })

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'colony-workers-'))
    store = Store.open({ file: file(), synchronous: 'normal' })
  })
  afterEach(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  /** Replaces the store's file with one an older Colony left, at migration `version`, open for the test to fill. */
  const dataDirAt = (version: number): Database.Database => {
    store.close()
    rmSync(file())
    const db = new Database(file())
    db.pragma('foreign_keys = ON')
    migrate(db, MIGRATIONS.filter((m) => m.version <= version))
    return db
  }

  it('migration 8 applies on a data dir left at migration 7 and keeps what was there', () => {
    const db = dataDirAt(7)
    db.prepare("INSERT INTO started_providers (id, ref, annotations, origin, started_at, team_id) VALUES ('kv', 'builtin:keyvalue', '{}', 'nats', 1, NULL)").run()
    assert.equal((db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'workers'").get() as any).n, 0)
    db.close()
    store = Store.open({ file: file(), synchronous: 'normal' })
    const applied = store.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all().map((r: any) => r.version)
    assert.deepEqual(applied, MIGRATIONS.map((m) => m.version), 'migration 8 and every later one applied')
    assert.deepEqual(store.startedProviders.all().map((p) => p.id), ['kv'])
    const tables = store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'worker%' ORDER BY name").all().map((r: any) => r.name)
    assert.deepEqual(tables, ['worker_invocations', 'worker_oplog', 'worker_snapshots', 'workers'])
    const w = store.workers.insert(worker('after-upgrade'))
    assert.equal(w.seq, 1)
  })

  it('inserts, refuses a duplicate with worker_already_exists (409), gets, updates and keeps it across a reopen', () => {
    const w = store.workers.insert(worker('w1', { args: ['a', 'b'], env: { REGION: 'eu' }, activePlugins: ['p-1'] }))
    assert.deepEqual(w, {
      seq: w.seq, componentId: COMPONENT, name: 'w1', teamId: 'team-a', componentVersion: 0, args: ['a', 'b'], env: { REGION: 'eu' }, status: 'Idle',
      createdAtMs: Date.parse('2024-06-01T00:00:00Z'), retryCount: 0, lastError: null, updates: [], activePlugins: ['p-1'],
    })
    const dup = rejects(() => store.workers.insert(worker('w1', { componentVersion: 3 })), 'worker_already_exists', 409)
    assert.deepEqual(dup.details, { componentId: COMPONENT, workerName: 'w1' })
    assert.equal(store.workers.get(COMPONENT, 'w1')?.componentVersion, 0, 'the duplicate changed nothing')
    // The same name under another component is another worker.
    store.workers.insert(worker('w1', { componentId: 'other' }))

    const updated = store.workers.update(COMPONENT, 'w1', {
      status: 'Failed', retryCount: 2, lastError: 'trap', componentVersion: 1,
      updates: [{ type: 'SuccessfulUpdate', timestamp: '2024-06-02T00:00:00.000Z', targetVersion: 1 }],
    })
    assert.equal(updated?.status, 'Failed')
    assert.equal(store.workers.update(COMPONENT, 'nobody', { status: 'Idle' }), undefined)
    assert.deepEqual(store.workers.update(COMPONENT, 'w1', {}), updated, 'an empty patch reads the row')
    assert.throws(() => store.workers.update(COMPONENT, 'w1', { status: 'Sleeping' as any }), /CHECK constraint/)

    store.close()
    store = Store.open({ file: file(), synchronous: 'normal' })
    const back = store.workers.get(COMPONENT, 'w1')
    assert.deepEqual(back, updated)
    assert.deepEqual(store.workers.getBySeq(w.seq), updated)
    assert.equal(store.workers.get(COMPONENT, 'w2'), undefined)
  })

  it('migration 14 moves an oplog left at migration 13 into append order: same rows, same key, same version lookup', () => {
    const db = dataDirAt(13)
    const insertWorker = db.prepare(`INSERT INTO workers (component_id, name, team_id, status, component_version, args, env, created_at)
      VALUES (?, ?, 'team-a', 'Idle', 0, '[]', '{}', 1)`)
    const seqs = ['m1', 'm2'].map((name) => Number(insertWorker.run(COMPONENT, name).lastInsertRowid))
    const row = db.prepare('INSERT INTO worker_oplog (worker_seq, idx, entry) VALUES (?, ?, ?)')
    // Interleaved, as concurrent workers write them.
    for (let idx = 1; idx <= 30; idx++) {
      for (const seq of seqs) row.run(seq, idx, JSON.stringify({ type: idx === 1 ? 'Create' : idx === 20 ? 'SuccessfulUpdate' : 'Log', seq, idx }))
    }
    db.close()

    store = Store.open({ file: file(), synchronous: 'normal' })
    const [m1, m2] = seqs as [number, number]
    for (const seq of seqs) {
      const rows = store.oplog.read(seq, 1, 100)
      assert.deepEqual(rows.map((r) => r.idx), Array.from({ length: 30 }, (_, i) => i + 1))
      assert.ok(rows.every((r) => (JSON.parse(r.entry) as { seq: number }).seq === seq))
      assert.equal(store.oplog.lastIndex(seq), 30)
    }
    assert.equal(store.oplog.versionEntryAt(m1, 19)?.idx, 1)
    assert.equal(store.oplog.versionEntryAt(m1, 25)?.idx, 20)
    const withoutRowid = store.db.prepare("SELECT sql FROM sqlite_master WHERE name = 'worker_oplog'").get() as { sql: string }
    assert.doesNotMatch(withoutRowid.sql, /WITHOUT ROWID/)
    // The key still refuses a second entry at an index, and a write for an unknown worker.
    const dup = store.oplog.appendBatch([{ worker: m1, rows: [{ idx: 30, entry: '{"type":"Log"}' }], invocations: [] },
      { worker: m2, rows: [{ idx: 31, entry: '{"type":"Log"}' }], invocations: [] }])
    assert.match(String((dup[0] as { code?: string } | undefined)?.code), /^SQLITE_CONSTRAINT/)
    assert.equal(dup[1], undefined)
    assert.equal(store.oplog.lastIndex(m1), 30)
    assert.equal(store.oplog.lastIndex(m2), 31)
    const orphan = store.oplog.appendBatch([{ worker: 9999, rows: [{ idx: 1, entry: '{"type":"Create"}' }], invocations: [] }])
    assert.match(String((orphan[0] as { code?: string } | undefined)?.code), /^SQLITE_CONSTRAINT/)
    // Deleting a worker still takes its entries with it.
    assert.equal(store.workers.delete(COMPONENT, 'm1'), true)
    assert.deepEqual(store.oplog.read(m1, 1, 100), [])
    assert.equal(store.oplog.read(m2, 1, 100).length, 31)
  })

  it('delete takes the oplog, idempotency keys and snapshot with it, and only that worker\'s', () => {
    const a = store.workers.insert(worker('a'))
    const b = store.workers.insert(worker('b'))
    for (const w of [a, b]) {
      store.oplog.appendBatch([{ worker: w.seq, rows: [{ idx: 1, entry: '{"type":"Create"}' }, { idx: 2, entry: '{"type":"Log"}' }], invocations: [{ idempotencyKey: 'k', state: 'pending', invokedIndex: 2 }] }])
      store.oplog.putSnapshot(w.seq, 2, Buffer.from('state'), 5)
    }
    assert.equal(store.workers.delete(COMPONENT, 'a'), true)
    assert.equal(store.workers.delete(COMPONENT, 'a'), false)
    assert.deepEqual(store.oplog.read(a.seq, 1, 10), [])
    assert.equal(store.oplog.invocation(a.seq, 'k'), undefined)
    assert.equal(store.oplog.latestSnapshot(a.seq), undefined)
    assert.equal(store.oplog.read(b.seq, 1, 10).length, 2)
    assert.equal(store.oplog.invocation(b.seq, 'k')?.state, 'pending')
    assert.equal(store.oplog.latestSnapshot(b.seq)?.bytes.toString(), 'state')
    // Created again under the same name: a new worker, nothing of the old one.
    const again = store.workers.insert(worker('a'))
    assert.ok(again.seq > b.seq)
    assert.equal(store.oplog.lastIndex(again.seq), 0)
    assert.deepEqual(store.workers.deleteComponent(COMPONENT).sort(), [b.seq, again.seq].sort())
    assert.deepEqual(store.workers.listAll(), [])
  })

  it('listAll and listByStatus in creation order', () => {
    store.workers.insert(worker('x', { status: 'Running' }))
    store.workers.insert(worker('y'))
    store.workers.insert(worker('z', { componentId: 'other', status: 'Running' }))
    assert.deepEqual(store.workers.listAll().map((w) => w.name), ['x', 'y', 'z'])
    assert.deepEqual(store.workers.listByStatus('Running').map((w) => w.name), ['x', 'z'])
    assert.deepEqual(store.workers.listByStatus('Exited'), [])
  })

  describe('list filters (query strings and tagged JSON give the same rows)', () => {
    const day = (d: number): number => Date.parse(`2024-01-${String(d).padStart(2, '0')}T00:00:00Z`)
    beforeEach(() => {
      store.workers.insert(worker('alpha', { componentVersion: 0, env: { REGION: 'eu', TIER: 'gold' }, createdAtMs: day(1), status: 'Idle' }))
      store.workers.insert(worker('beta', { componentVersion: 1, env: { REGION: 'us' }, createdAtMs: day(2), status: 'Running' }))
      store.workers.insert(worker('alphabet', { componentVersion: 2, env: {}, createdAtMs: day(3), status: 'Failed' }))
      store.workers.insert(worker('gamma', { componentVersion: 2, env: { REGION: 'eu-west' }, createdAtMs: day(4), status: 'Idle' }))
      store.workers.insert(worker('other-component', { componentId: 'other', env: { REGION: 'eu' } }))
    })
    const names = (filter: ReturnType<typeof parseFilterJson> | undefined): string[] =>
      store.workers.list(COMPONENT, filter === undefined ? {} : { filter }).rows.map((w: WorkerRecord) => w.name)

    const cases: Array<[string | string[], unknown, string[]]> = [
      ['name = alpha', { type: 'Name', comparator: 'Equal', value: 'alpha' }, ['alpha']],
      ['name == alpha', { type: 'Name', comparator: 'Equal', value: 'alpha' }, ['alpha']],
      ['name != alpha', { type: 'Name', comparator: 'NotEqual', value: 'alpha' }, ['beta', 'alphabet', 'gamma']],
      ['name like lph', { type: 'Name', comparator: 'Like', value: 'lph' }, ['alpha', 'alphabet']],
      ['name notlike lph', { type: 'Name', comparator: 'NotLike', value: 'lph' }, ['beta', 'gamma']],
      ['name startswith al', { type: 'Name', comparator: 'StartsWith', value: 'al' }, ['alpha', 'alphabet']],
      ['name like %', { type: 'Name', comparator: 'Like', value: '%' }, []],
      ['status == Running', { type: 'Status', comparator: 'Equal', value: 'Running' }, ['beta']],
      ['status != Idle', { type: 'Status', comparator: 'NotEqual', value: 'Idle' }, ['beta', 'alphabet']],
      ['status = idle', { type: 'Status', comparator: 'Equal', value: 'Idle' }, ['alpha', 'gamma']],
      ['version >= 1', { type: 'Version', comparator: 'GreaterEqual', value: 1 }, ['beta', 'alphabet', 'gamma']],
      ['version > 1', { type: 'Version', comparator: 'Greater', value: 1 }, ['alphabet', 'gamma']],
      ['version <= 1', { type: 'Version', comparator: 'LessEqual', value: 1 }, ['alpha', 'beta']],
      ['version lt 1', { type: 'Version', comparator: 'Less', value: 1 }, ['alpha']],
      ['version eq 2', { type: 'Version', comparator: 'Equal', value: 2 }, ['alphabet', 'gamma']],
      ['version ne 2', { type: 'Version', comparator: 'NotEqual', value: 2 }, ['alpha', 'beta']],
      ['env.REGION = eu', { type: 'Env', name: 'REGION', comparator: 'Equal', value: 'eu' }, ['alpha']],
      ['env.REGION != eu', { type: 'Env', name: 'REGION', comparator: 'NotEqual', value: 'eu' }, ['beta', 'gamma']],
      ['env.REGION like eu', { type: 'Env', name: 'REGION', comparator: 'Like', value: 'eu' }, ['alpha', 'gamma']],
      ['env.REGION notlike eu', { type: 'Env', name: 'REGION', comparator: 'NotLike', value: 'eu' }, ['beta']],
      ['env.region = eu', { type: 'Env', name: 'region', comparator: 'Equal', value: 'eu' }, []],
      ['createdAt > 2024-01-02T00:00:00Z', { type: 'CreatedAt', comparator: 'Greater', value: '2024-01-02T00:00:00Z' }, ['alphabet', 'gamma']],
      ['createdAt >= 2024-01-02T00:00:00Z', { type: 'CreatedAt', comparator: 'GreaterEqual', value: '2024-01-02T00:00:00Z' }, ['beta', 'alphabet', 'gamma']],
      ['createdAt < 2024-01-02', { type: 'CreatedAt', comparator: 'Less', value: '2024-01-02' }, ['alpha']],
      ['createdAt le 2024-01-02T01:00:00+01:00', { type: 'CreatedAt', comparator: 'LessEqual', value: '2024-01-02T01:00:00+01:00' }, ['alpha', 'beta']],
      ['createdAt = 2024-01-03T00:00:00.000Z', { type: 'CreatedAt', comparator: 'Equal', value: '2024-01-03T00:00:00.000Z' }, ['alphabet']],
      ['createdAt ne 2024-01-03T00:00:00Z', { type: 'CreatedAt', comparator: 'NotEqual', value: '2024-01-03T00:00:00Z' }, ['alpha', 'beta', 'gamma']],
      [['name like a', 'version >= 2', 'env.REGION like eu'], {
        type: 'And',
        filters: [{ type: 'Name', comparator: 'Like', value: 'a' }, { type: 'Version', comparator: 'GreaterEqual', value: 2 }, { type: 'Env', name: 'REGION', comparator: 'Like', value: 'eu' }],
      }, ['gamma']],
    ]
    for (const [text, json, expected] of cases) {
      it(`${JSON.stringify(text)} -> ${expected.join(', ') || 'nothing'}`, () => {
        const fromText = parseFilterStrings(text)
        assert.deepEqual(fromText, json)
        assert.deepEqual(parseFilterJson(json), json)
        assert.deepEqual(names(fromText), expected)
      })
    }

    it('Or and Not (JSON only), nested', () => {
      const f = parseFilterJson({
        type: 'Or',
        filters: [
          { type: 'Status', comparator: 'Equal', value: 'Running' },
          { type: 'Not', filter: { type: 'And', filters: [{ type: 'Version', comparator: 'Less', value: 2 }, { type: 'Env', name: 'TIER', comparator: 'Equal', value: 'gold' }] } },
        ],
      })
      assert.deepEqual(names(f), ['beta', 'alphabet', 'gamma'])
      assert.deepEqual(names(parseFilterJson({ type: 'And', filters: [] })), ['alpha', 'beta', 'alphabet', 'gamma'])
      assert.deepEqual(names(parseFilterJson({ type: 'Or', filters: [] })), [])
      assert.deepEqual(names(undefined), ['alpha', 'beta', 'alphabet', 'gamma'])
      assert.equal(parseFilterStrings([]), undefined)
      assert.equal(parseFilterStrings(undefined), undefined)
    })

    it('a value with spaces and quotes is taken whole and bound, never spliced into SQL', () => {
      store.workers.insert(worker("it's a name"))
      assert.deepEqual(names(parseFilterStrings("name =   it's a name  ")), ["it's a name"])
      assert.deepEqual(names(parseFilterStrings("name like ') OR 1=1 --")), [])
      assert.deepEqual(names(parseFilterJson({ type: 'Env', name: "REGION') OR ('1'='1", comparator: 'NotEqual', value: 'x' })), [])
    })

    const badStrings = [
      '', 'name', 'name =', 'color = red', 'name > a', 'status >= Running', 'status = Sleeping', 'version = -1', 'version = 1.5', 'version >= x',
      'env. = x', 'createdAt > yesterday', 'createdAt > 2024-13-45T00:00:00Z', 'createdAt like 2024-01-01', 'version like 1',
    ]
    for (const text of badStrings) {
      it(`the string ${JSON.stringify(text)} is invalid_filter (400)`, () => {
        rejects(() => parseFilterStrings(text), 'invalid_filter', 400)
      })
    }

    const badJson: unknown[] = [
      null, 'name = x', [], {}, { type: 'Colour' }, { type: 'Name', comparator: 'Greater', value: 'x' }, { type: 'Name', comparator: 'Equal', value: 3 },
      { type: 'Status', comparator: 'Less', value: 'Idle' }, { type: 'Status', comparator: 'Equal', value: 'Asleep' },
      { type: 'Version', comparator: 'Equal', value: -1 }, { type: 'Version', comparator: 'Like', value: 1 },
      { type: 'CreatedAt', comparator: 'Equal', value: 12 }, { type: 'Env', comparator: 'Equal', value: 'x' }, { type: 'Env', name: '', comparator: 'Equal', value: 'x' },
      { type: 'And' }, { type: 'Or', filters: [{ type: 'Nope' }] }, { type: 'Not' },
      Array.from({ length: 20 }).reduce((f) => ({ type: 'Not', filter: f }), { type: 'Name', comparator: 'Equal', value: 'x' }),
      { type: 'And', filters: Array.from({ length: 300 }, () => ({ type: 'Name', comparator: 'Equal', value: 'x' })) },
    ]
    for (const json of badJson) {
      it(`the JSON ${JSON.stringify(json).slice(0, 80)} is invalid_filter (400)`, () => {
        rejects(() => parseFilterJson(json), 'invalid_filter', 400)
      })
    }
  })

  describe('cursor pagination', () => {
    it('pages in creation order, stable while workers are inserted and deleted between pages', () => {
      for (let i = 0; i < 10; i++) store.workers.insert(worker(`w${i}`))
      const seen: string[] = []
      let page = store.workers.list(COMPONENT, { count: 3 })
      seen.push(...page.rows.map((w) => w.name))
      assert.match(page.cursor ?? '', /^0\/\d+$/)
      // Between pages: one not yet seen is deleted, one already seen is deleted, two new ones arrive.
      store.workers.delete(COMPONENT, 'w4')
      store.workers.delete(COMPONENT, 'w0')
      store.workers.insert(worker('late-1'))
      page = store.workers.list(COMPONENT, { count: 3, cursor: page.cursor })
      seen.push(...page.rows.map((w) => w.name))
      store.workers.insert(worker('late-2'))
      while (page.cursor !== undefined) {
        page = store.workers.list(COMPONENT, { count: 3, cursor: page.cursor })
        seen.push(...page.rows.map((w) => w.name))
      }
      assert.deepEqual(seen, ['w0', 'w1', 'w2', 'w3', 'w5', 'w6', 'w7', 'w8', 'w9', 'late-1', 'late-2'])
    })

    it('a page exactly at the end has no cursor; an empty component gives no rows; the object form is accepted', () => {
      for (let i = 0; i < 4; i++) store.workers.insert(worker(`w${i}`))
      const first = store.workers.list(COMPONENT, { count: 2 })
      const seq = Number(first.cursor?.split('/')[1])
      const second = store.workers.list(COMPONENT, { count: 2, cursor: { layer: 0, cursor: seq } })
      assert.deepEqual(second.rows.map((w) => w.name), ['w2', 'w3'])
      assert.equal(second.cursor, undefined)
      assert.deepEqual(store.workers.list('nothing-here'), { rows: [] })
      assert.deepEqual(store.workers.list(COMPONENT, { cursor: '0/999999' }), { rows: [] })
      assert.equal(store.workers.list(COMPONENT, { count: 1000 }).rows.length, 4)
    })

    it('filters and cursors combine', () => {
      for (let i = 0; i < 6; i++) store.workers.insert(worker(`w${i}`, { componentVersion: i % 2 }))
      const filter = parseFilterStrings('version = 1')
      const one = store.workers.list(COMPONENT, { filter, count: 2 })
      const two = store.workers.list(COMPONENT, { filter, count: 2, cursor: one.cursor })
      assert.deepEqual([...one.rows, ...two.rows].map((w) => w.name), ['w1', 'w3', 'w5'])
      assert.equal(two.cursor, undefined)
    })

    for (const cursor of ['', 'abc', '0', '0/', '/5', '1/5', '0/-1', '0/1.5', '0/5/1', ' 0/5'] as const) {
      it(`cursor ${JSON.stringify(cursor)} is invalid_cursor (400)`, () => rejects(() => store.workers.list(COMPONENT, { cursor }), 'invalid_cursor', 400))
    }
    for (const cursor of [{ layer: 1, cursor: 0 }, { layer: 0, cursor: -1 }, { layer: 0, cursor: 1.5 }, { layer: 0 }] as any[]) {
      it(`cursor ${JSON.stringify(cursor)} is invalid_cursor (400)`, () => rejects(() => store.workers.list(COMPONENT, { cursor }), 'invalid_cursor', 400))
    }
    for (const count of [0, -1, 1001, 1.5, Number.NaN, '5'] as any[]) {
      it(`count ${JSON.stringify(count)} is invalid_count (400)`, () => rejects(() => store.workers.list(COMPONENT, { count }), 'invalid_count', 400))
    }
  })
})
