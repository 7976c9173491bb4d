import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManualClock } from '../../../src/clock.js'
import { Store } from '../../../src/store/index.js'
import { SpawnMemory } from '../../../src/actor/spawn-memory.js'

describe('SpawnMemory (run-time spawns in SQLite)', () => {
  let dir: string
  let store: Store
  const clock = new ManualClock()
  const file = (): string => join(dir, 'colony.db')

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'colony-spawn-memory-'))
    store = Store.open({ file: file(), synchronous: 'normal' })
  })
  afterEach(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const actor = (id: string, name: string, team: string | null = 'team-a', options: Record<string, unknown> = {}): { id: string, kind: string, name: string, team: string | null, options: Record<string, unknown> } =>
    ({ id, kind: 'echo', name, team, options })

  it('keeps what it was told, in spawn order, with its last state; a new instance on the same file reads it back', () => {
    const memory = new SpawnMemory(store, clock)
    memory.remember(actor('b-2', 'second', null, { n: 1, nested: { list: [1, 'x'] } }))
    memory.remember(actor('a-1', 'first'))
    memory.setState('a-1', 'paused')
    memory.setState('b-2', 'stopped')
    store.close()
    store = Store.open({ file: file(), synchronous: 'normal' })
    const again = new SpawnMemory(store, clock)
    assert.deepEqual(again.all(), [
      { id: 'b-2', kind: 'echo', name: 'second', team: null, state: 'stopped', options: { n: 1, nested: { list: [1, 'x'] } } },
      { id: 'a-1', kind: 'echo', name: 'first', team: 'team-a', state: 'paused', options: {} },
    ], 'insertion order, not id order')
    assert.equal(again.has('a-1'), true)
  })

  it('forgets one actor, or every actor of a team; an unknown id changes nothing', () => {
    const memory = new SpawnMemory(store, clock)
    memory.remember(actor('a-1', 'one', 'team-a'))
    memory.remember(actor('a-2', 'two', 'team-a'))
    memory.remember(actor('b-1', 'three', 'team-b'))
    memory.remember(actor('s-1', 'four', null))
    memory.forget('nobody')
    memory.setState('nobody', 'paused')
    memory.forget('s-1')
    assert.equal(memory.forgetTeam('team-a'), 2)
    assert.equal(memory.forgetTeam('team-a'), 0)
    assert.deepEqual(memory.all().map((a) => a.id), ['b-1'])
    assert.equal(memory.has('a-1'), false)
  })

  it('a new actor with the name of a saved one replaces it (the registry let the name be taken again)', () => {
    const memory = new SpawnMemory(store, clock)
    memory.remember(actor('old', 'same-name'))
    memory.remember(actor('new', 'same-name'))
    assert.deepEqual(memory.all().map((a) => a.id), ['new'])
  })

  it('a row whose options are not a JSON object is read with options undefined (the restore logs it and keeps it)', () => {
    const memory = new SpawnMemory(store, clock)
    memory.remember(actor('x-1', 'broken'))
    store.db.prepare("UPDATE spawned_actors SET options = '[1' WHERE id = 'x-1'").run()
    assert.equal(memory.all()[0]?.options, undefined)
  })

  it('a database from before this migration gets the table, its other data untouched', () => {
    store.db.exec('DROP TABLE spawned_actors')
    store.db.prepare('DELETE FROM schema_migrations WHERE version = 5').run()
    store.teams.insert({ id: 'team-old', name: 'Old', slug: 'old', isDefault: false, createdAtMs: 1 })
    store.close()
    store = Store.open({ file: file(), synchronous: 'normal' })
    assert.equal(store.teams.get('team-old')?.name, 'Old')
    const memory = new SpawnMemory(store, clock)
    memory.remember(actor('n-1', 'fresh'))
    assert.equal(memory.all().length, 1)
  })
})
