import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { assertError, buildComponent, call, create, invoke, invokeOk } from '../helpers/components.js'

/**
 * A component that logs through wasi:logging and, when a message arrives on its messaging handler, publishes the
 * message's body on `colony/echoed` through wasmcloud:messaging — enough to exercise both providers end to end.
 */
const WIT = `package colony:io;
interface api { hello: func() -> u32; }
world io {
  import wasi:logging/logging;
  import wasmcloud:messaging/consumer@0.2.0;
  export api;
  export wasmcloud:messaging/handler@0.2.0;
}
package wasi:logging { interface logging { enum level { trace, debug, info, warn, error, critical } log: func(level: level, context: string, message: string); } }
package wasmcloud:messaging@0.2.0 {
  interface types { record broker-message { subject: string, body: list<u8>, reply-to: option<string> } }
  interface consumer { use types.{broker-message}; publish: func(msg: broker-message) -> result<_, string>; }
  interface handler { use types.{broker-message}; handle-message: func(msg: broker-message) -> result<_, string>; }
}`

const WAT = `(module
  (import "wasi:logging/logging" "log" (func $log (param i32 i32 i32 i32 i32)))
  (import "wasmcloud:messaging/consumer@0.2.0" "publish" (func $publish (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "greeter")
  (data (i32.const 120) "hello from the guest")
  (data (i32.const 160) "colony/echoed")
  (global $next (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $at i32)
    (local.set $at (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1))) (i32.sub (i32.const 0) (local.get 2))))
    (global.set $next (i32.add (local.get $at) (local.get 3)))
    (local.get $at))
  ;; log(info, "greeter", "hello from the guest"), then 1
  (func (export "colony:io/api#hello") (result i32)
    (call $log (i32.const 2) (i32.const 100) (i32.const 7) (i32.const 120) (i32.const 20))
    (i32.const 1))
  ;; handle-message(subject ptr, len, body ptr, len, reply-to disc, ptr, len) -> publish {colony/echoed, body, none}
  (func (export "wasmcloud:messaging/handler@0.2.0#handle-message")
    (param i32 i32 i32 i32 i32 i32 i32) (result i32)
    (call $publish (i32.const 160) (i32.const 13) (local.get 2) (local.get 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 32))
    ;; result<_, string>: ok (discriminant 0) at a static return area
    (i32.store8 (i32.const 48) (i32.const 0))
    (i32.const 48)))`

describe('components: the logging and messaging providers', () => {
  let colony: TestColony
  let mqtt: Recorder
  let base: string
  let id: string

  beforeEach(async () => {
    colony = await startColony()
    base = colony.rt.urls.http
    id = await create(base, 'io', await buildComponent(WAT, WIT, 'io'))
    mqtt = await connect(colony.rt.urls.mqtt)
  })
  afterEach(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  const link = (target: string, pkg: string, namespace: string, interfaces: string[], targetConfig: string[] = []): Promise<unknown> =>
    call('PUT', `${base}/v1/links`, { source_id: id, target, wit_namespace: namespace, wit_package: pkg, interfaces, target_config: targetConfig })

  it('without links the imports are named in a 409; with them, wasi:logging lines arrive on agents/{id}/logs', async () => {
    const missing = await invoke(base, id, 'hello', [])
    assertError(missing, 409, 'link_missing')
    assert.match(missing.body.error.message, /wasi:logging\/logging/)
    assert.match(missing.body.error.message, /wasmcloud:messaging\/consumer@0\.2\.0/)
    await link('logging-provider', 'logging', 'wasi', ['logging'])
    await link('messaging-provider', 'messaging', 'wasmcloud', ['consumer'])
    await mqtt.subscribe(`agents/${id}/logs`)
    assert.equal(await invokeOk(base, id, 'hello', []), 1)
    const line = await mqtt.next((m) => m.topic === `agents/${id}/logs`, { what: 'the log line' })
    assert.deepEqual({ stream: line.json.stream, level: line.json.level, context: line.json.context, text: line.json.text },
      { stream: 'log', level: 'info', context: 'greeter', text: 'hello from the guest' })
  })

  it('a message on a subscribed topic reaches handle-message, and the component publishes through the messaging provider', async () => {
    await link('logging-provider', 'logging', 'wasi', ['logging'])
    assert.equal((await call('PUT', `${base}/v1/configs/io-subs`, { entries: { subscriptions: 'sensors/#' } })).status, 200)
    await link('messaging-provider', 'messaging', 'wasmcloud', ['consumer', 'handler'], ['io-subs'])
    await invokeOk(base, id, 'hello', [])
    await mqtt.subscribe('colony/echoed')
    await mqtt.publish('sensors/kitchen', 'temperature 21.5')
    const echoed = await mqtt.next((m) => m.topic === 'colony/echoed', { what: 'the echoed message' })
    assert.equal(echoed.payload.toString(), 'temperature 21.5')
    await mqtt.publish('other/topic', 'not for the component')
    await mqtt.publish('sensors/hall', 'second')
    const second = await mqtt.next((m) => m.topic === 'colony/echoed' && m.payload.toString() === 'second', { what: 'the second echo' })
    assert.equal(mqtt.on('colony/echoed').length, 2, `only subscribed topics are delivered (${second.payload.length} bytes)`)
  })
})
