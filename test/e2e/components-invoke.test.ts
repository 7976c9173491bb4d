import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder, type Received } from '../helpers/mqtt.js'
import { assertError, assertHealthy, call, create, fixture, invoke, invokeOk, scale } from '../helpers/components.js'

describe('components: invocation over REST, MQTT and chat', () => {
  let colony: TestColony
  let base: string
  let mqtt: Recorder

  beforeEach(async () => {
    colony = await startColony({ config: { wasm: { callTimeoutMs: 300 } } })
    base = colony.rt.urls.http
    mqtt = await connect(colony.rt.urls.mqtt)
    await mqtt.subscribe('agents/#')
  })
  afterEach(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  it('an endless loop is stopped by the timeout: 504 invoke_timeout, a warning alert, a healthy runtime, and the next call works', async () => {
    const id = await create(base, 'loop', await fixture('loop'))
    assert.equal(await invokeOk(base, id, 'ok', []), 42)
    const from = mqtt.mark
    let pending = true
    const started = Date.now()
    const stuck = invoke(base, id, 'forever', []).finally(() => { pending = false })
    // The loop runs in a worker thread: the runtime answers meanwhile.
    await assertHealthy(base)
    assert.equal(pending, true, 'health answered while the endless call was still running')
    const res = await stuck
    const elapsed = Date.now() - started
    assert.match(assertError(res, 504, 'invoke_timeout'), /300 ms/)
    assert.ok(elapsed >= 300 && elapsed < 5000, `stopped after ${elapsed} ms`)

    const alert = await mqtt.next((m) => m.topic === `agents/${id}/alert` && m.json?.code === 'invoke_timeout', { from, what: 'the timeout alert' })
    assert.equal(alert.json.severity, 'warning')
    assert.equal(alert.json.agentId, id)
    assert.match(alert.json.message, /forever/)
    const replaced = await mqtt.next((m) => m.topic === `agents/${id}/alert` && m.json?.code === 'instance_replaced', { from, what: 'the replacement alert' })
    assert.equal(replaced.json.severity, 'warning')

    await assertHealthy(base)
    assert.equal(await invokeOk(base, id, 'ok', []), 42, 'a fresh instance answers')
    assert.equal((await call('GET', `${base}/api/actors/${id}`)).body.state, 'running', 'the actor itself never failed')
    // It happens again the same way: the replacement instance is as good as the first.
    assertError(await invoke(base, id, 'forever', []), 504, 'invoke_timeout')
    assert.equal(await invokeOk(base, id, 'ok', []), 42)
  })

  it('stdout of hello appears on agents/{id}/logs and in the invoke response', async () => {
    const id = await create(base, 'hello', await fixture('hello'))
    const from = mqtt.mark
    const res = await invoke(base, id, 'colony:hello/greeter.say-hello', [])
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.deepEqual(res.body.result, { typ: { type: 'Tuple', items: [{ type: 'Str' }] }, value: ['hello from colony'] })
    assert.equal(res.body.stdout, 'hello from colony\n')
    assert.equal(res.body.stderr, 'a line on stderr\n')

    const out = await mqtt.next((m) => m.topic === `agents/${id}/logs` && m.json?.stream === 'stdout', { from, what: 'the stdout line' })
    assert.deepEqual(Object.keys(out.json).sort(), ['agentId', 'instance', 'stream', 'text', 'timestampMs'])
    assert.equal(out.json.agentId, id)
    assert.equal(out.json.text, 'hello from colony\n')
    assert.equal(typeof out.json.instance, 'number')
    assert.ok(Math.abs(out.json.timestampMs - Date.now()) < 60_000)
    const err = await mqtt.next((m) => m.topic === `agents/${id}/logs` && m.json?.stream === 'stderr', { from, what: 'the stderr line' })
    assert.equal(err.json.text, 'a line on stderr\n')

    // Each call's captured output is its own, not the previous calls' as well.
    const again = await invoke(base, id, 'say-hello', [])
    assert.equal(again.body.stdout, 'hello from colony\n')
    const run = await invoke(base, id, 'wasi:cli/run@0.2.0.{run}', [])
    assert.equal(run.status, 200, JSON.stringify(run.body))
    assert.equal(run.body.stdout, 'hello from colony\n')
    assert.deepEqual(run.body.result, { typ: { type: 'Tuple', items: [{ type: 'Result' }] }, value: [{ ok: null }] })
  })

  it('MQTT invocation: {id, function, params, replyTo} -> {id, result} on replyTo; bad requests -> {id, error}', async () => {
    const id = await create(base, 'adder', await fixture('adder'))
    const reply = (rid: string): Promise<Received> =>
      mqtt.next((m) => m.topic.startsWith(`agents/${id}/reply`) && m.json?.id === rid, { what: `reply ${rid}`, timeoutMs: 10_000 })

    await mqtt.publish(`agents/${id}/invoke`, { id: 'r1', function: 'add', params: [2, 3], replyTo: `agents/${id}/reply/x` })
    const ok = await reply('r1')
    assert.equal(ok.topic, `agents/${id}/reply/x`)
    assert.equal(ok.json.result, 5)
    assert.equal(ok.json.error, undefined)
    assert.equal(ok.json.function, 'colony:adder/math.{add}')

    await mqtt.publish(`agents/${id}/invoke`, { id: 'r2', function: 'greet', params: ['mqtt'] })
    const byDefault = await reply('r2')
    assert.equal(byDefault.topic, `agents/${id}/reply`, 'without replyTo the reply goes to agents/{id}/reply')
    assert.equal(byDefault.json.result, 'hello, mqtt')

    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['r3', { function: 'nope', params: [] }, 'function_not_found'],
      ['r4', { function: 'add', params: ['x', 1] }, 'invalid_params'],
      ['r5', { function: 'add', params: [1] }, 'invalid_params'],
      ['r6', { function: 'add', params: [1, 2], replyTo: 'system/health' }, 'wire_invalid_payload'],
    ]
    for (const [rid, body, code] of cases) {
      await mqtt.publish(`agents/${id}/invoke`, { id: rid, replyTo: `agents/${id}/reply/x`, ...body })
      const bad = await reply(rid)
      assert.equal(bad.json.error?.code, code, `${rid}: ${JSON.stringify(bad.json)}`)
      assert.equal(typeof bad.json.error.message, 'string')
      assert.equal(bad.json.result, undefined)
    }
    // A replyTo nobody may publish on is refused, and the refusal goes to the default reply topic.
    assert.equal(mqtt.received.find((m) => m.json?.id === 'r6' && !m.topic.endsWith('/invoke'))?.topic, `agents/${id}/reply`)

    // A non-JSON request has no id to answer: an error alert on the component instead.
    const from = mqtt.mark
    await mqtt.publish(`agents/${id}/invoke`, 'not json')
    const alert = await mqtt.next((m) => m.topic === `agents/${id}/alert` && m.json?.severity === 'error', { from, what: 'the refusal alert' })
    assert.match(alert.json.message, /invoke refused/)

    // An unknown component answers with component_not_found.
    const ghost = '00000000-0000-4000-8000-000000000000'
    await mqtt.subscribe(`agents/${ghost}/#`)
    await mqtt.publish(`agents/${ghost}/invoke`, { id: 'r8', function: 'add', params: [1, 2], replyTo: `agents/${ghost}/reply/x` })
    const missing = await mqtt.next((m) => m.topic === `agents/${ghost}/reply/x` && m.json?.id === 'r8', { what: 'reply r8' })
    assert.equal(missing.json.error.code, 'component_not_found')
    await assertHealthy(base)
  })

  it('MQTT invocation: a request with an id but no function, or params that are not an array, gets {id, error} on replyTo', async () => {
    const id = await create(base, 'adder', await fixture('adder'))
    assert.equal((await scale(base, id, 1)).status, 200)
    const cases: Array<[string, Record<string, unknown>]> = [['m1', { params: [1, 2] }], ['m2', { function: 'add', params: 5 }]]
    for (const [rid, body] of cases) {
      const from = mqtt.mark
      await mqtt.publish(`agents/${id}/invoke`, { id: rid, replyTo: `agents/${id}/reply/x`, ...body })
      // A good request after it is a barrier: the refusal is published at once, the good reply only after a call.
      await mqtt.publish(`agents/${id}/invoke`, { id: `${rid}-ok`, function: 'add', params: [1, 1], replyTo: `agents/${id}/reply/x` })
      await mqtt.next((m) => m.topic === `agents/${id}/reply/x` && m.json?.id === `${rid}-ok`, { from, what: `the reply to ${rid}-ok` })
      const bad = mqtt.received.find((m) => m.index >= from && m.json?.id === rid && !m.topic.endsWith('/invoke'))
      assert.ok(bad !== undefined, `${rid} (${JSON.stringify(body)}) carries a correlation id and replyTo but got no reply`)
      assert.equal(bad.topic, `agents/${id}/reply/x`)
      assert.equal(bad.json.error.code, 'wire_invalid_payload')
    }
  })

  it('chat: @<component> invoke add [2, 3] answers on agents/{id}/chat; bad params get a clear reply', async () => {
    const id = await create(base, 'adder', await fixture('adder'))
    assert.equal((await scale(base, id, 1)).status, 200)
    const say = async (content: string, cid: string): Promise<Received> => {
      await mqtt.publish('io/chat', { id: cid, from: 'tester', content, timestampMs: Date.now() })
      return await mqtt.next((m) => m.topic.endsWith('/chat') && m.json?.inReplyTo === cid, { what: `reply to ${cid}` })
    }
    const sum = await say('@adder invoke add [2, 3]', 'c1')
    assert.equal(sum.topic, `agents/${id}/chat`)
    assert.equal(sum.json.from, 'adder')
    assert.equal(sum.json.content, 'colony:adder/math.{add} -> 5')
    assert.equal((await say('@adder invoke greet ["chat"]', 'c2')).json.content, 'colony:adder/math.{greet} -> "hello, chat"')
    assert.match((await say('@adder invoke add [2', 'c3')).json.content, /JSON array/)
    assert.match((await say('@adder invoke add ["x", 1]', 'c4')).json.content, /invoke failed: .*parameter "a"/)
    assert.match((await say('@adder invoke subtract [1, 2]', 'c5')).json.content, /invoke failed: .*no function "subtract"/)
    const help = await say('@adder help', 'c6')
    assert.match(help.json.content, /colony:adder\/math\.\{add\}/)
    assert.match(help.json.content, /1 instances?/)
  })
})

describe('components: value conversion through the kitchen fixture (invoke-and-await, Golem shape)', () => {
  let colony: TestColony
  let base: string
  let kitchen: string

  before(async () => {
    colony = await startColony()
    base = colony.rt.urls.http
    kitchen = await create(base, 'kitchen', await fixture('kitchen'))
  })
  after(async () => {
    await colony?.close()
  })

  /** Invokes echo-<kind> and returns Golem's `{typ, value}` result. */
  async function echo (kind: string, value: unknown): Promise<{ typ: any, value: unknown[] }> {
    const res = await invoke(base, kitchen, `echo-${kind}`, [value])
    assert.equal(res.status, 200, `echo-${kind} ${JSON.stringify(value)}: ${JSON.stringify(res.body)}`)
    assert.equal(res.body.function, `colony:kitchen/echo.{echo-${kind}}`)
    assert.equal(res.body.result.typ.type, 'Tuple')
    assert.equal(res.body.result.typ.items.length, 1)
    return res.body.result
  }

  it('record', async () => {
    const r = await echo('record', { x: 1, y: -2, label: 'p' })
    assert.deepEqual(r.value, [{ x: 1, y: -2, label: 'p' }])
    assert.deepEqual(r.typ.items[0], {
      type: 'Record', name: 'point', fields: [{ name: 'x', typ: { type: 'S32' } }, { name: 'y', typ: { type: 'S32' } }, { name: 'label', typ: { type: 'Str' } }],
    })
    const points = await echo('points', [{ x: 1, y: 2, label: 'a' }, { x: 3, y: 4, label: 'b' }])
    assert.deepEqual(points.value, [[{ x: 1, y: 2, label: 'a' }, { x: 3, y: 4, label: 'b' }]])
  })

  it('variant, enum', async () => {
    assert.deepEqual((await echo('variant', { circle: 1.5 })).value, [{ circle: 1.5 }])
    assert.deepEqual((await echo('variant', { square: 7 })).value, [{ square: 7 }])
    const none = await echo('variant', 'none')
    assert.deepEqual(none.value, ['none'])
    assert.equal(none.typ.items[0].type, 'Variant')
    assert.deepEqual(none.typ.items[0].cases.map((c: { name: string }) => c.name), ['circle', 'square', 'none'])
    assert.deepEqual((await echo('enum', 'green')).value, ['green'])
  })

  it('option', async () => {
    const some = await echo('option', 'x')
    assert.deepEqual(some.value, ['x'])
    assert.deepEqual(some.typ.items[0], { type: 'Option', inner: { type: 'Str' } })
    assert.deepEqual((await echo('option', null)).value, [null])
  })

  it('result ok and err', async () => {
    const ok = await echo('result', { ok: 7 })
    assert.deepEqual(ok.value, [{ ok: 7 }])
    assert.deepEqual(ok.typ.items[0], { type: 'Result', ok: { type: 'U32' }, err: { type: 'Str' } })
    assert.deepEqual((await echo('result', { err: 'bad' })).value, [{ err: 'bad' }])
  })

  it('flags, list, tuple, bytes', async () => {
    const flags = await echo('flags', ['read', 'exec'])
    assert.deepEqual(flags.value, [['read', 'exec']])
    assert.deepEqual(flags.typ.items[0], { type: 'Flags', name: 'perms', names: ['read', 'write', 'exec'] })
    assert.deepEqual((await echo('flags', [])).value, [[]])
    const list = await echo('list', [1, 2, 4294967295])
    assert.deepEqual(list.value, [[1, 2, 4294967295]])
    assert.deepEqual(list.typ.items[0], { type: 'List', inner: { type: 'U32' } })
    const tuple = await echo('tuple', [255, 'a', 2.5])
    assert.deepEqual(tuple.value, [[255, 'a', 2.5]])
    assert.deepEqual(tuple.typ.items[0], { type: 'Tuple', items: [{ type: 'U8' }, { type: 'Str' }, { type: 'F64' }] })
    assert.deepEqual((await echo('bytes', [0, 1, 255])).value, [[0, 1, 255]])
  })

  it('u64 and s64 beyond 2^53 travel as decimal strings; small ones as numbers', async () => {
    assert.deepEqual((await echo('u64', '18446744073709551615')).value, ['18446744073709551615'])
    assert.deepEqual((await echo('u64', '9007199254740993')).value, ['9007199254740993'])
    assert.deepEqual((await echo('u64', 5)).value, [5])
    assert.deepEqual((await echo('s64', '-9223372036854775808')).value, ['-9223372036854775808'])
    assertError(await invoke(base, kitchen, 'echo-u64', ['18446744073709551616']), 400, 'invalid_params', 'u64 overflow')
    assertError(await invoke(base, kitchen, 'echo-u64', [-1]), 400, 'invalid_params', 'negative u64')
  })

  it('Golem typed parameters {typ, value} are accepted', async () => {
    const r = await echo('u32', { typ: { type: 'U32' }, value: 9 })
    assert.deepEqual(r.value, [9])
  })

  it('a mismatch deep inside a value names the parameter and the place', async () => {
    const res = await invoke(base, kitchen, 'echo-points', [[{ x: 1, y: 2, label: 'a' }, { x: 1, y: 'two', label: 'b' }]])
    assertError(res, 400, 'invalid_params')
    assert.equal(res.body.error.param, 'v')
    assert.equal(res.body.error.path, '/1/y')
    assertError(await invoke(base, kitchen, 'echo-variant', [{ triangle: 3 }]), 400, 'invalid_params')
    assertError(await invoke(base, kitchen, 'echo-flags', [['read', 'fly']]), 400, 'invalid_params')
    assertError(await invoke(base, kitchen, 'echo-u8', [256]), 400, 'invalid_params')
  })
})
