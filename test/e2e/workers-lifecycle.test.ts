import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { assertError, create, fixture } from '../helpers/components.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { invokeWorker, resultValue, workerMetadata, wholeOplog } from '../helpers/workers.js'

/**
 * A worker's life outside single calls: it leaves memory when idle and comes back with the same state, and a call
 * that never returns fails the worker for good, with an alert, a stored error and the reason in its metadata.
 */
describe('durable workers: idle eviction and failure', function () {
  this.timeout(60_000)
  let colony: TestColony
  let base: string

  beforeEach(async () => {
    colony = await startColony({ config: { workers: { idleMs: 100 }, wasm: { callTimeoutMs: 400 } } })
    base = colony.rt.urls.http
  })
  afterEach(async () => { await colony?.close() })

  const actorOf = (componentId: string, workerName: string): string => colony.rt.services.workers.actorId({ componentId, workerName })

  it('an idle worker leaves memory and its next call brings it back with the same state', async () => {
    const id = await create(base, 'memcounter', await fixture('memcounter'))
    const actor = actorOf(id, 'sleepy')
    const left = new Promise<void>((resolve) => {
      const onRemoved = (removed: string): void => {
        if (removed !== actor) return
        colony.rt.actors.events.off('removed', onRemoved)
        resolve()
      }
      colony.rt.actors.events.on('removed', onRemoved)
    })
    for (let i = 0; i < 3; i++) await invokeWorker(base, id, 'sleepy', 'increment', [])
    assert.equal(colony.rt.system.stateOf(actor), 'running')
    await left
    assert.equal(colony.rt.system.stateOf(actor), undefined, 'out of memory')
    assert.equal((await workerMetadata(base, id, 'sleepy')).body.status, 'Idle', 'a client sees the same worker')
    assert.equal(resultValue(await invokeWorker(base, id, 'sleepy', 'get', [])), 3, 'rebuilt with its state')
    assert.equal(colony.rt.system.stateOf(actor), 'running')
  })

  it('a call that never returns fails the worker: an alert, the error stored under its key, later calls refused', async () => {
    const id = await create(base, 'loop', await fixture('loop'))
    assert.equal(resultValue(await invokeWorker(base, id, 'spin', 'ok', [])), 42)
    const actor = actorOf(id, 'spin')
    const mqtt: Recorder = await connect(colony.rt.urls.mqtt)
    try {
      await mqtt.subscribe(`agents/${actor}/alert`)
      const from = mqtt.mark
      const timedOut = assertError(await invokeWorker(base, id, 'spin', 'forever', [], { key: 'stuck' }), 504, 'invoke_timeout')
      const alert = await mqtt.next((m) => m.json?.code === 'worker_failed', { from, what: 'the worker_failed alert' })
      assert.equal(alert.json.severity, 'error')
      const meta = (await workerMetadata(base, id, 'spin')).body
      assert.equal(meta.status, 'Failed')
      assert.equal(meta.lastError, timedOut)
      // The same key answers the stored error without running anything; any other call is refused.
      assertError(await invokeWorker(base, id, 'spin', 'forever', [], { key: 'stuck' }), 504, 'invoke_timeout')
      assertError(await invokeWorker(base, id, 'spin', 'ok', []), 409, 'worker_failed')
      const types = (await wholeOplog(base, id, 'spin')).map((e) => e.entry.type)
      assert.equal(types[types.length - 1], 'Error')
    } finally {
      await mqtt.close()
    }
  })
})
