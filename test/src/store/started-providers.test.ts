import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../../src/store/index.js'
import type { StartedProviderRecord } from '../../../src/store/providers.js'

describe('StartedProviders (providers started at run time, in SQLite)', () => {
  let dir: string
  let store: Store
  const file = (): string => join(dir, 'colony.db')
  const reopen = (): void => {
    store.close()
    store = Store.open({ file: file(), synchronous: 'normal' })
  }
  const provider = (id: string, ref = 'builtin:keyvalue', annotations: Record<string, string> = {}, startedAtMs = 1, teamId: string | null = null): StartedProviderRecord =>
    ({ id, ref, annotations: JSON.stringify(annotations), origin: 'nats', teamId, startedAtMs })

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'colony-started-providers-'))
    store = Store.open({ file: file(), synchronous: 'normal' })
  })
  afterEach(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('keeps what it was told in start order across a reopen; a second start of an id replaces it in place; remove forgets', () => {
    store.startedProviders.put(provider('kv-b', 'builtin:keyvalue', { tier: 'gold' }))
    store.startedProviders.put(provider('kv-a'))
    store.startedProviders.put(provider('log-c', 'builtin:logging'))
    store.startedProviders.put(provider('kv-b', 'builtin:messaging', { tier: 'silver' }, 5))
    store.startedProviders.remove('log-c')
    store.startedProviders.remove('nobody')
    reopen()
    assert.deepEqual(store.startedProviders.all(), [
      { id: 'kv-b', ref: 'builtin:messaging', annotations: '{"tier":"silver"}', origin: 'nats', teamId: null, startedAtMs: 5 },
      { id: 'kv-a', ref: 'builtin:keyvalue', annotations: '{}', origin: 'nats', teamId: null, startedAtMs: 1 },
    ], 'start order, not id order')
  })

  it('keeps the team a provider was started for; a second start for another team replaces it', () => {
    store.startedProviders.put({ ...provider('kv-t', 'builtin:keyvalue', {}, 1, 'team-a'), origin: 'rest' })
    store.startedProviders.put(provider('kv-h'))
    reopen()
    assert.deepEqual(store.startedProviders.all().map((p) => [p.id, p.teamId, p.origin]), [['kv-t', 'team-a', 'rest'], ['kv-h', null, 'nats']])
    store.startedProviders.put(provider('kv-t', 'builtin:keyvalue', {}, 2, 'team-b'))
    assert.deepEqual(store.startedProviders.all().map((p) => [p.id, p.teamId]), [['kv-t', 'team-b'], ['kv-h', null]])
  })

  it('a data dir from before this migration keeps the providers saved in the keyvalue table, and only those', () => {
    store.db.exec('DROP TABLE started_providers')
    store.db.prepare('DELETE FROM schema_migrations WHERE version IN (6, 7)').run()
    const old = (key: string, value: string): void => store.kv.set('$colony', 'nats-providers', key, Buffer.from(value))
    old('kv-two', JSON.stringify({ ref: 'builtin:keyvalue', annotations: { team: 'a' } }))
    old('bare', JSON.stringify({ ref: 'builtin:logging' }))
    old('broken', '{"ref":')
    old('no-ref', JSON.stringify({ annotations: {} }))
    store.kv.set('component-1', 'nats-providers', 'kv-two', Buffer.from('a component\'s own data'))
    store.kv.set('$colony', 'other', 'k', Buffer.from('v'))
    reopen()
    assert.deepEqual(store.startedProviders.all().map((p) => ({ id: p.id, ref: p.ref, annotations: JSON.parse(p.annotations), origin: p.origin, teamId: p.teamId })), [
      { id: 'bare', ref: 'builtin:logging', annotations: {}, origin: 'nats', teamId: null },
      { id: 'kv-two', ref: 'builtin:keyvalue', annotations: { team: 'a' }, origin: 'nats', teamId: null },
    ])
    assert.deepEqual(store.kv.keys('$colony', 'nats-providers'), [], 'the old place is emptied')
    assert.equal(store.kv.get('component-1', 'nats-providers', 'kv-two')?.toString(), 'a component\'s own data')
    assert.equal(store.kv.get('$colony', 'other', 'k')?.toString(), 'v')
  })
})
