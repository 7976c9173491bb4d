import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAll, startOnDataDir, type CliRun } from '../helpers/cli.js'
import { signup } from '../helpers/identity.js'
import { create, fixture } from '../helpers/components.js'
import { invokeWorker, resultValue, wholeOplog, workerMetadata } from '../helpers/workers.js'

type Running = CliRun & { http: string }

/**
 * Golem's promise, tested the hard way: a real Colony child process is `kill -9`ed at random moments while clients
 * increment a counter that lives only in a worker's linear memory, each call with its own idempotency key, retried
 * with the same key until it answers. Nothing acknowledged is lost and nothing runs twice.
 */
describe('durable workers survive kill -9: exactly-once increments, replayed clocks and random numbers', () => {
  let dataDir: string

  beforeEach(() => { dataDir = mkdtempSync(join(tmpdir(), 'colony-workers-kill-')) })
  afterEach(() => {
    killAll()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('1000 idempotent increments across three kill -9s: the count is exactly 1000 and every key has one result', async function () {
    this.timeout(240_000)
    let colony: Running = await startOnDataDir(dataDir)
    const alice = await signup(colony.http, 'alice')
    const c = { token: alice.token }
    const componentId = await create(colony.http, 'memcounter', await fixture('memcounter'), c)

    const TOTAL = 1000
    const CALLERS = 8
    const results = new Map<string, Set<number>>()
    let next = 0
    let restarting: Promise<void> | undefined
    // A caller retries its key until it is answered, waiting out restarts (connection refused, 503 while starting).
    const caller = async (): Promise<void> => {
      for (let i = next++; i < TOTAL; i = next++) {
        const key = `inc-${i}`
        for (;;) {
          if (restarting !== undefined) await restarting
          let res
          try {
            res = await invokeWorker(colony.http, componentId, 'counter-1', 'increment', [], { ...c, key })
          } catch {
            await (restarting ?? new Promise((resolve) => setImmediate(resolve)))
            continue
          }
          if (res.status === 200) {
            const seen = results.get(key) ?? new Set<number>()
            seen.add(Number(resultValue(res)))
            results.set(key, seen)
            // Some retries ask again after an answer: the same key must answer the same.
            if (i % 97 === 0) {
              const again = await invokeWorker(colony.http, componentId, 'counter-1', 'increment', [], { ...c, key }).catch(() => undefined)
              if (again?.status === 200) seen.add(Number(resultValue(again)))
            }
            break
          }
          if (res.status >= 500 || res.status === 409) { await new Promise((resolve) => setTimeout(resolve, 20)); continue }
          throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`)
        }
      }
    }
    const kills = [150 + Math.floor(Math.random() * 150), 400 + Math.floor(Math.random() * 150), 650 + Math.floor(Math.random() * 200)]
    const killer = async (): Promise<void> => {
      for (const at of kills) {
        while (results.size < at) await new Promise((resolve) => setTimeout(resolve, 5))
        let release!: () => void
        restarting = new Promise((resolve) => { release = resolve })
        colony.child.kill('SIGKILL')
        assert.equal((await colony.exited).signal, 'SIGKILL')
        colony = await startOnDataDir(dataDir)
        restarting = undefined
        release()
      }
    }
    await Promise.all([killer(), ...Array.from({ length: CALLERS }, caller)])

    assert.equal(results.size, TOTAL)
    const values = [...results.values()]
    assert.ok(values.every((s) => s.size === 1), `a key answered two results: ${JSON.stringify(values.filter((s) => s.size > 1).map((s) => [...s]))}`)
    assert.deepEqual(values.map((s) => [...s][0]).sort((a, b) => (a as number) - (b as number)), Array.from({ length: TOTAL }, (_, i) => i + 1),
      'each increment ran exactly once: the answers are 1..1000')
    assert.equal(resultValue(await invokeWorker(colony.http, componentId, 'counter-1', 'get', [], c)), TOTAL)
    const meta = await workerMetadata(colony.http, componentId, 'counter-1', c)
    assert.equal(meta.body.status, 'Idle')
    const completed = (await wholeOplog(colony.http, componentId, 'counter-1', c)).filter((e) => e.entry.type === 'ExportedFunctionInvoked' && e.entry.functionName.endsWith('{increment}'))
    assert.equal(completed.length, TOTAL, 'the oplog holds each increment once')
    colony.child.kill('SIGTERM')
    await colony.exited
  })

  it('after kill -9 the clock and random numbers a worker saw are replayed, not read again', async function () {
    this.timeout(60_000)
    let colony: Running = await startOnDataDir(dataDir)
    const alice = await signup(colony.http, 'alice')
    const c = { token: alice.token }
    const componentId = await create(colony.http, 'clockrand', await fixture('clockrand'), c)
    const before = []
    for (let i = 0; i < 5; i++) before.push(resultValue(await invokeWorker(colony.http, componentId, 'w', 'sample', [], c)))
    const remembered = resultValue(await invokeWorker(colony.http, componentId, 'w', 'last-sample', [], c))
    assert.deepEqual(remembered, before[4])

    colony.child.kill('SIGKILL')
    await colony.exited
    colony = await startOnDataDir(dataDir)
    // Rebuilt by replay: the memory holds exactly the values recorded before the crash.
    assert.deepEqual(resultValue(await invokeWorker(colony.http, componentId, 'w', 'last-sample', [], c)), before[4])
    const oplog = await wholeOplog(colony.http, componentId, 'w', c)
    assert.ok(oplog.some((e) => e.entry.type === 'ImportedFunctionInvoked' && /wall-clock/.test(e.entry.functionName)))
    const after = resultValue(await invokeWorker(colony.http, componentId, 'w', 'sample', [], c))
    assert.notDeepEqual(after, before[4], 'a new call reads the clock live again')
    colony.child.kill('SIGTERM')
    await colony.exited
  })
})
