import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { assertError, assertHealthy, buildComponent, call, create, envCheck, invoke, invokeOk, scale } from '../helpers/components.js'

/** A component whose `grow(pages)` grows its linear memory, and whose `quit()` calls wasi:cli/exit with an error. */
const WIT = `package colony:limits;
interface api { grow: func(pages: u32) -> s32; quit: func(); ping: func() -> u32; }
world limits {
  import wasi:cli/exit@0.2.0;
  export api;
}
package wasi:cli@0.2.0 { interface exit { exit: func(status: result); } }`

const WAT = `(module
  (import "wasi:cli/exit@0.2.0" "exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "colony:limits/api#grow") (param $pages i32) (result i32) (memory.grow (local.get $pages)))
  (func (export "colony:limits/api#quit") (call $exit (i32.const 1)))
  (func (export "colony:limits/api#ping") (result i32) (i32.const 7)))`

describe('components: instance settings — env and args are the component\'s own', () => {
  let colony: TestColony

  beforeEach(async () => { colony = await startColony() })
  afterEach(async () => { await colony?.close() })

  it('an instance sees no host environment or filesystem by default, and exactly the env, args and directory it was given', async () => {
    const base = colony.rt.urls.http
    const id = await create(base, 'envcheck', await envCheck())
    assert.ok(Object.keys(process.env).length > 0, 'the host has an environment that must not leak')
    assert.equal(await invokeOk(base, id, 'env-count', []), 0)
    assert.equal(await invokeOk(base, id, 'args-count', []), 1, 'argv[0] is the component name')
    assert.equal(await invokeOk(base, id, 'dirs-count', []), 0, 'no filesystem unless configured')
    assert.equal((await scale(base, id, 0)).status, 200)
    const scaled = await call('POST', `${base}/v1/components/${id}/scale`, { instances: 1, env: { A: '1', B: '2', C: '3' }, args: ['prog', '--flag'] })
    assert.equal(scaled.status, 200)
    assert.equal(await invokeOk(base, id, 'env-count', []), 3)
    assert.equal(await invokeOk(base, id, 'args-count', []), 2)
    assert.equal(await invokeOk(base, id, 'dirs-count', []), 0)
    await scale(base, id, 0)
    assert.equal((await call('POST', `${base}/v1/components/${id}/scale`, { instances: 1, filesystem: true })).status, 200)
    assert.equal(await invokeOk(base, id, 'dirs-count', []), 1, 'filesystem: true preopens one private directory')
    const bad = await call('POST', `${base}/v1/components/${id}/scale`, { instances: 1, env: { 'A=B': 'x' } })
    assertError(bad, 400, 'invalid_body')
  })
})

describe('components: limits — memory budget and exit', () => {
  let colony: TestColony
  let mqtt: Recorder
  let base: string
  let id: string

  beforeEach(async () => {
    colony = await startColony({ config: { wasm: { memoryLimitMb: 2 } } })
    base = colony.rt.urls.http
    id = await create(base, 'limits', await buildComponent(WAT, WIT, 'limits'))
    mqtt = await connect(colony.rt.urls.mqtt)
    await mqtt.subscribe(`agents/${id}/alert`)
  })
  afterEach(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  it('an instance that grows past the memory budget is stopped: 507, a warning alert, and the next call gets a fresh instance', async () => {
    // 1 page is 64 KiB: growing by 64 pages makes 4.1 MiB, over the 2 MiB budget.
    const over = await invoke(base, id, 'grow', [64])
    assertError(over, 507, 'wasm_memory_exceeded')
    assert.match(over.body.error.message, /over its budget of 2097152/)
    const alert = await mqtt.next((m) => m.json?.code === 'wasm_memory_exceeded', { what: 'the memory alert' })
    assert.equal(alert.json.severity, 'warning')
    await mqtt.next((m) => m.json?.code === 'instance_replaced', { what: 'the replacement alert' })
    // The fresh instance starts from one page again: growing by one page returns the old size, 1.
    assert.equal(await invokeOk(base, id, 'grow', [1]), 1)
    await assertHealthy(base)
  })

  it('wasi:cli/exit ends the call, never the runtime: 500 invoke_failed, then a fresh instance answers', async () => {
    const exited = await invoke(base, id, 'quit', [])
    assertError(exited, 500, 'invoke_failed')
    assert.match(exited.body.error.message, /exited: the component called exit\(1\)/)
    assert.equal(await invokeOk(base, id, 'ping', []), 7)
    await assertHealthy(base)
  })
})
