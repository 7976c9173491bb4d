import assert from 'node:assert/strict'
import { WebSocket } from 'ws'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { assertError, call, create, fixture, update } from '../helpers/components.js'
import { signup } from '../helpers/identity.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { invokeWorker, resultValue, wholeOplog, workerMetadata, workerUrl } from '../helpers/workers.js'

/** Golem's worker API over REST on a real runtime: lifecycle, idempotency, errors, the oplog, teams. */
describe('durable workers over REST', () => {
  let colony: TestColony
  let base: string

  beforeEach(async () => {
    colony = await startColony({ config: { wasm: { callTimeoutMs: 10_000 } } })
    base = colony.rt.urls.http
  })
  afterEach(async () => { await colony?.close() })

  it('create, get, list, invoke with plain and typed params, delete; invoking an unknown worker creates it', async () => {
    const id = await create(base, 'memcounter', await fixture('memcounter'))
    const created = await call('POST', `${base}/v1/components/${id}/workers`, { name: 'c1', args: ['a'], env: { REGION: 'eu' } })
    assert.equal(created.status, 200, JSON.stringify(created.body))
    assert.deepEqual(created.body, { workerId: { componentId: id, workerName: 'c1' }, componentVersion: 0 })
    assertError(await call('POST', `${base}/v1/components/${id}/workers`, { name: 'c1' }), 409, 'worker_already_exists')

    const meta = (await workerMetadata(base, id, 'c1')).body
    assert.deepEqual({ status: meta.status, args: meta.args, env: meta.env, version: meta.componentVersion, pending: meta.pendingInvocationCount },
      { status: 'Idle', args: ['a'], env: { REGION: 'eu' }, version: 0, pending: 0 })
    assert.match(meta.createdAt, /^\d{4}-\d\d-\d\dT/)

    assert.equal(resultValue(await invokeWorker(base, id, 'c1', 'increment', [])), 1)
    const typed = await invokeWorker(base, id, 'c1', 'colony:memcounter/api.{add}', [{ typ: { type: 'U64' }, value: 41 }])
    assert.deepEqual(typed.body, { result: { typ: { type: 'Tuple', items: [{ type: 'U64' }] }, value: [42] } })
    assert.equal(resultValue(await invokeWorker(base, id, 'c1', 'add', [8])), 50)

    // Golem: a call to a worker nobody created creates it.
    assert.equal(resultValue(await invokeWorker(base, id, 'implicit', 'increment', [])), 1)
    const list = await call('GET', `${base}/v1/components/${id}/workers?count=10`)
    assert.deepEqual(list.body.workers.map((w: any) => w.workerId.workerName).sort(), ['c1', 'implicit'])
    const filtered = await call('GET', `${base}/v1/components/${id}/workers?filter=${encodeURIComponent('name = implicit')}`)
    assert.deepEqual(filtered.body.workers.map((w: any) => w.workerId.workerName), ['implicit'])
    const found = await call('POST', `${base}/v1/components/${id}/workers/find`, {
      filter: { type: 'And', filters: [{ type: 'Env', name: 'REGION', comparator: 'Equal', value: 'eu' }, { type: 'Status', comparator: 'Equal', value: 'Idle' }] },
      count: 1,
    })
    assert.equal(found.status, 200, JSON.stringify(found.body))
    assert.deepEqual(found.body.workers.map((w: any) => w.workerId.workerName), ['c1'])
    const paged = await call('GET', `${base}/v1/components/${id}/workers?count=1`)
    const rest = await call('POST', `${base}/v1/components/${id}/workers/find`, { cursor: paged.body.cursor, count: 5 })
    assert.deepEqual([...paged.body.workers, ...rest.body.workers].map((w: any) => w.workerId.workerName), ['c1', 'implicit'])
    assert.equal(rest.body.cursor, undefined, 'the last page has no cursor')
    assertError(await call('POST', `${base}/v1/components/${id}/workers/find`, { filter: { type: 'Colour' } }), 400, 'invalid_filter')

    assert.deepEqual((await call('DELETE', workerUrl(base, id, 'c1'))).body, {})
    assertError(await workerMetadata(base, id, 'c1'), 404, 'worker_not_found')
    // A new worker of the same name starts from nothing.
    assert.equal(resultValue(await invokeWorker(base, id, 'c1', 'increment', [])), 1)
  })

  it('an idempotency key runs once: a repeat answers the stored result, a concurrent duplicate awaits the same one', async () => {
    const id = await create(base, 'memcounter', await fixture('memcounter'))
    const first = await invokeWorker(base, id, 'w', 'increment', [], { key: 'k-1' })
    const again = await invokeWorker(base, id, 'w', 'increment', [], { key: 'k-1' })
    assert.deepEqual(again.body, first.body)
    assert.equal(resultValue(first), 1)
    const racing = await Promise.all(Array.from({ length: 6 }, () => invokeWorker(base, id, 'w', 'add', [10], { key: 'k-2' })))
    assert.deepEqual(new Set(racing.map(resultValue)), new Set([11]))
    assert.equal(resultValue(await invokeWorker(base, id, 'w', 'get', [])), 11, 'the duplicates did not run')
    // Fire-and-forget with a key, then the same key awaited: one execution, its result.
    assert.deepEqual((await invokeWorker(base, id, 'w', 'increment', [], { key: 'k-3', await: false })).body, {})
    assert.equal(resultValue(await invokeWorker(base, id, 'w', 'increment', [], { key: 'k-3' })), 12)
    assert.equal(resultValue(await invokeWorker(base, id, 'w', 'get', [])), 12)
    // Calls run one at a time, in order.
    const ordered = await Promise.all(Array.from({ length: 20 }, (_, i) => invokeWorker(base, id, 'w', 'increment', [], { key: `order-${i}` })))
    assert.deepEqual(ordered.map(resultValue).sort((a, b) => Number(a) - Number(b)), Array.from({ length: 20 }, (_, i) => 13 + i))
  })

  it('an unknown function or params of the wrong type are refused before anything runs, naming the parameter', async () => {
    const id = await create(base, 'adder', await fixture('adder'))
    // Unknown function and wrong types are refused before anything runs: nothing stored, the worker is fine.
    assertError(await invokeWorker(base, id, 'w', 'nope', []), 404, 'function_not_found')
    const wrong = assertError(await invokeWorker(base, id, 'w', 'add', ['x', 2]), 400, 'invalid_params')
    assert.match(wrong, /\ba\b/, 'the message names the parameter')
    assertError(await invokeWorker(base, id, 'w', 'add', [1]), 400, 'invalid_params')
    assert.equal(resultValue(await invokeWorker(base, id, 'w', 'add', [2, 3])), 5)
    assert.equal((await workerMetadata(base, id, 'w')).body.status, 'Idle')
  })

  it('bad input gets codes and changes nothing', async () => {
    const id = await create(base, 'memcounter', await fixture('memcounter'))
    await invokeWorker(base, id, 'w', 'increment', [])
    assertError(await workerMetadata(base, id, 'ghost'), 404, 'worker_not_found')
    assertError(await workerMetadata(base, 'no-such-component', 'w'), 404, 'component_not_found')
    assertError(await call('GET', `${base}/v1/components/${id}/workers?cursor=zzz`), 400, 'invalid_cursor')
    assertError(await call('GET', `${base}/v1/components/${id}/workers?count=0`), 400, 'invalid_count')
    assertError(await call('GET', `${base}/v1/components/${id}/workers?count=abc`), 400, 'invalid_count')
    assertError(await call('GET', `${base}/v1/components/${id}/workers?filter=${encodeURIComponent('colour = red')}`), 400, 'invalid_filter')
    assertError(await call('GET', workerUrl(base, id, 'w', '/oplog?count=0')), 400, 'invalid_count')
    assertError(await call('GET', workerUrl(base, id, 'w', '/oplog?count=5&cursor=bad')), 400, 'invalid_cursor')
    assertError(await invokeWorker(base, id, 'w', 'increment', [], { key: 'has space' }), 400, 'invalid_idempotency_key')
    assertError(await invokeWorker(base, id, 'w', 'increment', [], { key: 'x'.repeat(129) }), 400, 'invalid_idempotency_key')
    assertError(await call('POST', `${base}/v1/components/${id}/workers`, { name: '' }), 400, 'invalid_body')
    assertError(await call('POST', `${base}/v1/components/${id}/workers`, { name: 'a/b' }), 400, 'invalid_worker_name')
    assertError(await call('POST', workerUrl(base, id, 'w', '/update'), { mode: 'Sideways', targetVersion: 1 }), 400, 'invalid_body')
    assertError(await call('POST', workerUrl(base, id, 'w', '/update'), { mode: 'Automatic', targetVersion: 7 }), 404, 'revision_not_found')
    assert.equal(resultValue(await invokeWorker(base, id, 'w', 'get', [])), 1, 'nothing changed')
  })

  it('the oplog pages in Golem\'s shape and records each invocation as one block', async () => {
    const id = await create(base, 'memcounter', await fixture('memcounter'))
    for (let i = 0; i < 5; i++) await invokeWorker(base, id, 'w', 'increment', [], { key: `k${i}` })
    const page = await call('GET', workerUrl(base, id, 'w', '/oplog?from=1&count=4'))
    assert.equal(page.status, 200, JSON.stringify(page.body))
    assert.deepEqual(page.body.entries.map((e: any) => e.oplogIndex), [1, 2, 3, 4])
    assert.equal(page.body.entries[0].entry.type, 'Create')
    assert.equal(page.body.firstIndexInChunk, 1)
    assert.deepEqual(page.body.next, { nextOplogIndex: 5, currentComponentVersion: 0 })
    const all = await wholeOplog(base, id, 'w')
    assert.equal(all.length, page.body.lastIndex)
    const invoked = all.filter((e) => e.entry.type === 'ExportedFunctionInvoked')
    assert.deepEqual(invoked.map((e) => e.entry.idempotencyKey), ['k0', 'k1', 'k2', 'k3', 'k4'])
    assert.ok(all.filter((e) => e.entry.type === 'ExportedFunctionCompleted').every((e) => e.entry.response.typ.type === 'Tuple'))
    // One block per invocation, what the guest printed as a Log entry inside it.
    const block = all.slice(1, 4).map((e) => e.entry)
    assert.deepEqual(block.map((e) => e.type), ['ExportedFunctionInvoked', 'Log', 'ExportedFunctionCompleted'])
    assert.deepEqual({ level: block[1].level, message: block[1].message }, { level: 'Stdout', message: 'count=1\n' })
  })

  it('interrupt, resume (409 for a Running worker), recovery-immediately keeps the state', async () => {
    const id = await create(base, 'adder', await fixture('adder'))
    assert.equal(resultValue(await invokeWorker(base, id, 'spinner', 'add', [1, 1])), 2)
    const long = invokeWorker(base, id, 'spinner', 'spin', [4_000_000_000])
    await until(async () => (await workerMetadata(base, id, 'spinner')).body.status === 'Running')
    assertError(await call('POST', workerUrl(base, id, 'spinner', '/resume')), 409, 'worker_not_resumable')
    assert.deepEqual((await call('POST', workerUrl(base, id, 'spinner', '/interrupt'))).body, {})
    assertError(await long, 409, 'worker_interrupted')
    assert.equal((await workerMetadata(base, id, 'spinner')).body.status, 'Interrupted')
    assert.deepEqual((await call('POST', workerUrl(base, id, 'spinner', '/resume'))).body, {})
    assert.equal((await workerMetadata(base, id, 'spinner')).body.status, 'Idle')
    assert.equal(resultValue(await invokeWorker(base, id, 'spinner', 'add', [2, 2])), 4)
    const types = (await wholeOplog(base, id, 'spinner')).map((e) => e.entry.type)
    assert.ok(types.includes('Interrupted'))

    const counter = await create(base, 'memcounter', await fixture('memcounter'))
    for (let i = 0; i < 7; i++) await invokeWorker(base, counter, 'c', 'increment', [])
    assert.deepEqual((await call('POST', workerUrl(base, counter, 'c', '/interrupt?recovery-immediately=true'))).body, {})
    assert.equal((await workerMetadata(base, counter, 'c')).body.status, 'Idle')
    assert.equal(resultValue(await invokeWorker(base, counter, 'c', 'get', [])), 7, 'the rebuilt memory is what it was')
  })

  it('update: Automatic succeeds on a compatible version, reverts on divergence; Manual moves a snapshot or says it cannot', async () => {
    const id = await create(base, 'memcounter', await fixture('memcounter'))
    for (let i = 0; i < 3; i++) await invokeWorker(base, id, 'auto', 'increment', [])
    for (let i = 0; i < 3; i++) await invokeWorker(base, id, 'bad', 'increment', [])
    for (let i = 0; i < 3; i++) await invokeWorker(base, id, 'manual', 'increment', [])
    assert.equal((await update(base, id, await fixture('memcounter2'))).status, 200)
    assert.equal((await update(base, id, await fixture('memcounter-diverge'))).status, 200)
    assert.equal((await update(base, id, await fixture('adder'))).status, 200)

    assert.deepEqual((await call('POST', workerUrl(base, id, 'auto', '/update'), { mode: 'Automatic', targetVersion: 1 })).body, {})
    assert.equal(resultValue(await invokeWorker(base, id, 'auto', 'decrement', [])), 2, 'now on version 1, with its state')
    const auto = (await workerMetadata(base, id, 'auto')).body
    assert.equal(auto.componentVersion, 1)
    assert.deepEqual(auto.updates.map((u: any) => [u.type, u.targetVersion]), [['SuccessfulUpdate', 1]])

    await call('POST', workerUrl(base, id, 'bad', '/update'), { mode: 'Automatic', targetVersion: 2 })
    assert.equal(resultValue(await invokeWorker(base, id, 'bad', 'increment', [])), 4, 'still version 0: increments by one')
    const bad = (await workerMetadata(base, id, 'bad')).body
    assert.equal(bad.componentVersion, 0)
    assert.deepEqual(bad.updates.map((u: any) => [u.type, u.targetVersion]), [['FailedUpdate', 2]])
    assert.ok((await wholeOplog(base, id, 'bad')).some((e) => e.entry.type === 'FailedUpdate'))

    assert.deepEqual((await call('POST', workerUrl(base, id, 'manual', '/update'), { mode: 'Manual', targetVersion: 1 })).body, {})
    assert.equal(resultValue(await invokeWorker(base, id, 'manual', 'decrement', [])), 2)
    assertError(await call('POST', workerUrl(base, id, 'manual', '/update'), { mode: 'Manual', targetVersion: 3 }), 409, 'update_not_supported')
    // After a manual update the old calls cannot be replayed on the new code: a crash recovers from the snapshot.
    await call('POST', workerUrl(base, id, 'manual', '/interrupt?recovery-immediately=true'))
    assert.equal(resultValue(await invokeWorker(base, id, 'manual', 'get', [])), 2)
  })

  it('connect: a client joining late gets the last events, then live ones', async () => {
    const id = await create(base, 'memcounter', await fixture('memcounter'))
    for (let i = 0; i < 3; i++) await invokeWorker(base, id, 'w', 'increment', [], { key: `c${i}` })
    const ws = new WebSocket(workerUrl(base, id, 'w', '/connect').replace('http', 'ws'))
    const frames: any[] = []
    ws.on('message', (data) => frames.push(JSON.parse((data as Buffer).toString('utf8'))))
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    await until(async () => frames.length >= 9)
    assert.deepEqual(frames.slice(0, 3).map((f) => Object.keys(f)[0]), ['InvocationStart', 'StdOut', 'InvocationFinished'])
    assert.equal(Buffer.from(frames[1].StdOut.bytes).toString(), 'count=1\n')
    assert.equal(frames[0].InvocationStart.idempotency_key, 'c0')
    await invokeWorker(base, id, 'w', 'increment', [], { key: 'live' })
    await until(async () => frames.some((f) => f.InvocationFinished?.idempotency_key === 'live'))
    const closed = new Promise((resolve) => ws.once('close', resolve))
    ws.close()
    await closed
    const refused = await fetch(workerUrl(base, id, 'w', '/connect'))
    assert.equal(refused.status, 426)
  })

  it('plugins: an activated OplogProcessor gets the worker\'s durable entries over MQTT; activation and deactivation are in the oplog', async () => {
    const alice = await signup(base, 'plugin-owner')
    const c = { token: alice.token }
    const id = await create(base, 'memcounter', await fixture('memcounter'), c)
    const plugin = await call('POST', `${base}/v1/accounts/me/plugins`, { name: 'audit', version: '1', specs: { type: 'OplogProcessor', componentId: id, componentVersion: 0 } }, c)
    assert.equal(plugin.status, 200, JSON.stringify(plugin.body))
    const installed = await call('POST', `${base}/v1/components/${id}/latest/plugins/installs`, { name: 'audit', version: '1', priority: 1, parameters: { level: 'all' } }, c)
    assert.equal(installed.status, 200, JSON.stringify(installed.body))
    await invokeWorker(base, id, 'p', 'increment', [], c)
    // Golem: a new worker starts with its component's installed plugins active.
    assert.deepEqual((await workerMetadata(base, id, 'p', c)).body.activePlugins, [installed.body.id])
    const [createEntry] = await wholeOplog(base, id, 'p', c)
    assert.deepEqual(createEntry?.entry.initialActivePlugins, [{ installationId: installed.body.id, pluginName: 'audit', pluginVersion: '1', parameters: { level: 'all' } }])
    assert.deepEqual((await call('POST', workerUrl(base, id, 'p', `/deactivate-plugin?plugin-installation-id=${installed.body.id}`), undefined, c)).body, {})
    assertError(await call('POST', workerUrl(base, id, 'p', '/activate-plugin?plugin-installation-id=nope'), undefined, c), 404, 'plugin_installation_not_found')

    const mqtt: Recorder = await connect(colony.rt.urls.mqtt, { username: 'plugin-owner', password: alice.token })
    try {
      await mqtt.subscribe(`plugins/${plugin.body.id}/oplog`)
      const from = mqtt.mark
      const activate = `/activate-plugin?plugin-installation-id=${installed.body.id}`
      assert.deepEqual((await call('POST', workerUrl(base, id, 'p', activate), undefined, c)).body, {})
      assert.deepEqual((await workerMetadata(base, id, 'p', c)).body.activePlugins, [installed.body.id])
      await invokeWorker(base, id, 'p', 'increment', [], { ...c, key: 'seen-by-plugin' })
      const batch = await mqtt.next((m) => m.json?.entries?.some((e: any) => e.entry.idempotencyKey === 'seen-by-plugin'), { from, what: 'the invocation block' })
      assert.deepEqual(batch.json.workerId, { componentId: id, workerName: 'p' })
      assert.equal(batch.json.installationId, installed.body.id)
      assert.deepEqual(batch.json.entries.map((e: any) => e.entry.type), ['ExportedFunctionInvoked', 'Log', 'ExportedFunctionCompleted'])
      assert.deepEqual(batch.json.entries[2].entry.response.value, [2])
      const first = await mqtt.next((m) => m.json?.entries?.[0]?.entry.type === 'ActivatePlugin', { from, what: 'the activation' })
      assert.deepEqual(first.json.entries[0].entry.plugin, { installationId: installed.body.id, pluginName: 'audit', pluginVersion: '1', parameters: { level: 'all' } })

      assert.deepEqual((await call('POST', workerUrl(base, id, 'p', `/deactivate-plugin?plugin-installation-id=${installed.body.id}`), undefined, c)).body, {})
      await mqtt.next((m) => m.json?.entries?.[0]?.entry.type === 'DeactivatePlugin', { from, what: 'the deactivation' })
      assert.deepEqual((await workerMetadata(base, id, 'p', c)).body.activePlugins, [])
      const types = (await wholeOplog(base, id, 'p', c)).map((e) => e.entry.type)
      assert.deepEqual(types.filter((t) => t.endsWith('Plugin')), ['DeactivatePlugin', 'ActivatePlugin', 'DeactivatePlugin'])
    } finally {
      await mqtt.close()
    }
  })

  it('a worker belongs to its component\'s team: another team gets 404', async () => {
    const id = await create(base, 'memcounter', await fixture('memcounter'))
    assert.equal(resultValue(await invokeWorker(base, id, 'w', 'increment', [])), 1)
    const bob = await signup(base, 'bob')
    assertError(await workerMetadata(base, id, 'w', { token: bob.token }), 404, 'component_not_found')
    assertError(await invokeWorker(base, id, 'w', 'increment', [], { token: bob.token }), 404, 'component_not_found')
    assert.equal(resultValue(await invokeWorker(base, id, 'w', 'get', [])), 1)
  })

  it('MQTT agents/{id}/invoke with an idempotency key reaches the worker; the worker actor beats and reports its state', async () => {
    const id = await create(base, 'memcounter', await fixture('memcounter'))
    await invokeWorker(base, id, 'm', 'increment', [])
    const actor = colony.rt.system.list().find((a) => a.kind === 'worker')
    assert.ok(actor !== undefined, 'the worker is an actor')
    assert.equal(actor.agentType, 'worker')
    const mqtt: Recorder = await connect(colony.rt.urls.mqtt)
    try {
      await mqtt.subscribe(`agents/${actor.id}/#`)
      const from = mqtt.mark
      for (let i = 0; i < 2; i++) await mqtt.publish(`agents/${actor.id}/invoke`, JSON.stringify({ id: 'r1', function: 'increment', idempotencyKey: 'mq-1' }))
      const reply = await mqtt.next((m) => m.topic === `agents/${actor.id}/reply` && m.json?.id === 'r1', { from, what: 'the reply' })
      assert.equal(reply.json.result, 2)
      // Once the calls are done, a beat reports the worker Idle with what it ran.
      const beat = await mqtt.next((m) => m.topic === `agents/${actor.id}/heartbeat` && m.json?.status === 'Idle', { from, what: 'an Idle heartbeat' })
      assert.equal(beat.json.componentVersion, 0)
      assert.ok(beat.json.invocations >= 2, JSON.stringify(beat.json))
      assert.equal(resultValue(await invokeWorker(base, id, 'm', 'get', [])), 2, 'the duplicate MQTT request ran once')
    } finally {
      await mqtt.close()
    }
  })
})

async function until (check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
