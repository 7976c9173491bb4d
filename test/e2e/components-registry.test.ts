import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { signup } from '../helpers/identity.js'
import { adderTimes100, assertError, assertHealthy, call, coreModule, create, download, fixture, invoke, invokeOk, linkKeyvalue, padTo, scale, update, upload } from '../helpers/components.js'

describe('components: the Golem registry over REST', () => {
  let colony: TestColony
  let base: string
  let mqtt: Recorder

  beforeEach(async () => {
    colony = await startColony()
    base = colony.rt.urls.http
    mqtt = await connect(colony.rt.urls.mqtt)
    await mqtt.subscribe('agents/#')
  })
  afterEach(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  it('upload -> list -> invoke -> PATCH a new version -> invoke uses it -> download each revision -> delete', async () => {
    const v0 = await fixture('adder')
    const created = await upload(base, 'adder', v0)
    assert.equal(created.status, 200, JSON.stringify(created.body))
    const id = created.body.componentId as string
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    assert.equal(created.body.componentName, 'adder')
    assert.equal(created.body.componentVersion, 0)
    assert.equal(created.body.componentSize, v0.length)
    assert.ok(!Number.isNaN(Date.parse(created.body.createdAt)), 'createdAt is a date-time')
    const names = (created.body.metadata.exports as Array<{ function: string }>).map((f) => f.function).sort()
    assert.deepEqual(names, ['colony:adder/math.{add}', 'colony:adder/math.{greet}', 'colony:adder/math.{spin}'])

    const list = await call('GET', `${base}/v1/envs/default/components`)
    assert.equal(list.status, 200)
    assert.deepEqual(list.body.map((c: { componentId: string }) => c.componentId), [id])
    const byName = await call('GET', `${base}/v1/envs/default/components/adder`)
    assert.equal(byName.body.componentId, id)
    assert.equal((await call('GET', `${base}/v1/envs/other/components`)).body.length, 0, 'another environment is empty')

    const first = await invoke(base, id, 'add', [2, 3])
    assert.equal(first.status, 200, JSON.stringify(first.body))
    assert.deepEqual(first.body.result, { typ: { type: 'Tuple', items: [{ type: 'S32' }] }, value: [5] })
    assert.equal(first.body.function, 'colony:adder/math.{add}')
    assert.equal(await invokeOk(base, id, 'colony:adder/math.{greet}', ['colony']), 'hello, colony')

    const v1 = await adderTimes100()
    assert.notDeepEqual(v1, v0)
    const patched = await update(base, id, v1)
    assert.equal(patched.status, 200, JSON.stringify(patched.body))
    assert.equal(patched.body.componentId, id)
    assert.equal(patched.body.componentVersion, 1)
    assert.equal(patched.body.componentSize, v1.length)
    assert.equal((await call('GET', `${base}/v1/components/${id}`)).body.componentVersion, 1)
    // The actor already runs version 0: the next call must switch to version 1.
    assert.equal(await invokeOk(base, id, 'add', [2, 3]), 203)
    const beat = await mqtt.next((m) => m.topic === `agents/${id}/heartbeat` && m.json?.version === 1, { from: mqtt.mark })
    assert.equal(beat.json.componentId, id)

    for (const [revision, bytes] of [[0, v0], [1, v1]] as const) {
      const got = await download(base, id, revision)
      assert.equal(got.status, 200)
      assert.equal(got.type, 'application/wasm')
      assert.deepEqual(got.bytes, bytes, `revision ${revision} comes back byte for byte`)
    }

    const gone = mqtt.next((m) => m.topic === `agents/${id}/status` && m.payload.length === 0, { from: mqtt.mark, what: 'the actor\'s status cleared' })
    const deleted = await call('DELETE', `${base}/v1/components/${id}`)
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body))
    assertError(await call('GET', `${base}/v1/components/${id}`), 404, 'component_not_found')
    assertError(await invoke(base, id, 'add', [1, 1]), 404, 'component_not_found')
    assert.equal((await download(base, id, 0)).status, 404)
    assert.deepEqual((await call('GET', `${base}/v1/envs/default/components`)).body, [])
    await gone
    assertError(await call('GET', `${base}/api/actors/${id}`), 404, 'actor_not_found')
    const actors = (await call('GET', `${base}/api/actors`)).body as Array<{ id: string }>
    assert.equal(actors.some((a) => a.id === id), false, 'the component\'s actor left the registry')
  })

  it('a second upload under the same name is 409 component_name_taken; another environment may reuse it', async () => {
    const bytes = await fixture('adder')
    await create(base, 'dup', bytes)
    assertError(await upload(base, 'dup', bytes), 409, 'component_name_taken')
    await create(base, 'dup', bytes, { env: 'staging' })
  })

  it('another team gets 404 for the first team\'s component on every route', async () => {
    const alice = await signup(base, 'alice')
    const bob = await signup(base, 'bob')
    const A = { token: alice.token }
    const B = { token: bob.token }
    const bytes = await fixture('adder')
    const id = await create(base, 'private', bytes, A)
    assert.equal(await invokeOk(base, id, 'add', [1, 2], A), 3)

    const notFound = (res: Awaited<ReturnType<typeof call>>, what: string): void => {
      assert.equal(res.status, 404, `${what}: ${JSON.stringify(res.body)}`)
      assert.equal(res.body.error.code, 'component_not_found', what)
    }
    notFound(await call('GET', `${base}/v1/components/${id}`, undefined, B), 'GET')
    notFound(await call('GET', `${base}/v1/envs/default/components/private`, undefined, B), 'GET by name')
    notFound(await update(base, id, bytes, B), 'PATCH')
    notFound(await call('DELETE', `${base}/v1/components/${id}`, undefined, B), 'DELETE')
    notFound(await invoke(base, id, 'add', [1, 2], B), 'invoke-and-await')
    notFound(await scale(base, id, 2, B), 'scale')
    notFound(await linkKeyvalue(base, id, B), 'PUT /v1/links')
    notFound(await call('GET', `${base}/v1/links?source_id=${id}`, undefined, B), 'GET /v1/links')
    notFound(await call('DELETE', `${base}/v1/links/${id}/wasi/keyvalue/default`, undefined, B), 'DELETE /v1/links')
    const dl = await fetch(`${base}/v1/components/${id}/revisions/0/wasm`, { headers: { authorization: `Bearer ${bob.token}` } })
    assert.equal(dl.status, 404)
    assert.equal(((await dl.json()) as { error: { code: string } }).error.code, 'component_not_found')
    const list = await call('GET', `${base}/v1/envs/default/components`, undefined, B)
    assert.equal(list.status, 200)
    assert.deepEqual(list.body, [])
    const actors = (await call('GET', `${base}/api/actors`, undefined, B)).body as Array<{ id: string }>
    assert.equal(actors.some((a) => a.id === id), false, 'the component actor is not listed for the other team')

    // MQTT is a door too: Bob may not publish an invocation for Alice's component (the broker drops him), and he
    // cannot read its replies either.
    const bobMqtt = await connect(colony.rt.urls.mqtt, { username: 'bob', password: bob.token })
    try {
      await bobMqtt.subscribe(`agents/${id}/#`)
      const dropped = new Promise<void>((resolve) => bobMqtt.client.once('close', () => resolve()))
      bobMqtt.client.publish(`agents/${id}/invoke`, JSON.stringify({ id: 'b1', function: 'add', params: [1, 2], replyTo: `agents/${id}/reply/bob` }))
      await dropped
      assert.equal(bobMqtt.received.length, 0)
    } finally {
      await bobMqtt.close()
    }
    assert.equal(mqtt.received.some((m) => m.json?.id === 'b1' && m.topic.includes('/reply')), false, 'Bob\'s invocation never ran')

    // Nothing Bob tried changed anything for Alice.
    const after = await call('GET', `${base}/v1/components/${id}`, undefined, A)
    assert.equal(after.status, 200)
    assert.equal(after.body.componentVersion, 0)
    assert.equal(await invokeOk(base, id, 'add', [1, 2], A), 3)
  })
})

describe('components: bad uploads and bad invocations', () => {
  let colony: TestColony
  let base: string
  let adder: string

  before(async () => {
    colony = await startColony({ config: { wasm: { maxComponentBytes: 4096 } } })
    base = colony.rt.urls.http
    adder = await create(base, 'adder', await fixture('adder'))
  })
  after(async () => {
    await colony?.close()
  })
  afterEach(async () => {
    await assertHealthy(base)
  })

  it('garbage bytes -> 400 component_invalid (not WebAssembly)', async () => {
    const msg = assertError(await upload(base, 'garbage', new TextEncoder().encode('this is not wasm at all, really')), 400, 'component_invalid')
    assert.match(msg, /magic/)
  })

  it('a damaged component (valid header, broken body) -> 400 component_invalid', async () => {
    const bytes = await fixture('adder')
    const broken = bytes.slice(0, Math.floor(bytes.length / 2))
    assertError(await upload(base, 'broken', broken), 400, 'component_invalid')
  })

  it('a core module -> 400 component_invalid saying it is a core module', async () => {
    const msg = assertError(await upload(base, 'core', await coreModule()), 400, 'component_invalid')
    assert.match(msg, /core WebAssembly module/)
  })

  it('an empty file -> 400 invalid_body naming the component part', async () => {
    const res = await upload(base, 'empty', new Uint8Array(0))
    assert.match(assertError(res, 400, 'invalid_body'), /component/)
    assert.equal(res.body.error.field, 'component')
  })

  it('a file over wasm.maxComponentBytes -> 413 component_too_large', async () => {
    const kitchen = await fixture('kitchen')
    assert.ok(kitchen.length > 4096)
    assert.match(assertError(await upload(base, 'big', kitchen), 413, 'component_too_large'), /4096/)
    assert.match(assertError(await update(base, adder, kitchen), 413, 'component_too_large'), /4096/)
    assert.equal((await call('GET', `${base}/v1/components/${adder}`)).body.componentVersion, 0, 'the refused PATCH made no version')
    // The limit itself is allowed, one byte more is not.
    const bytes = await fixture('adder')
    const atLimit = await upload(base, 'at-limit', padTo(bytes, 4096))
    assert.equal(atLimit.status, 200, JSON.stringify(atLimit.body))
    assert.equal(atLimit.body.componentSize, 4096)
    assert.equal((await call('DELETE', `${base}/v1/components/${atLimit.body.componentId as string}`)).status, 200)
    const over = await upload(base, 'over-limit', padTo(bytes, 4097))
    assertError(over, 413, 'component_too_large')
    assert.equal(over.body.error.limit, 4096)
  })

  it('a multipart body without a component part, or without a name -> 400 invalid_body', async () => {
    const noFile = await fetch(`${base}/v1/envs/default/components`, { method: 'POST', body: (() => { const f = new FormData(); f.append('name', 'x'); return f })() })
    const body = await noFile.json() as { error: { code: string, message: string, field: string } }
    assert.equal(noFile.status, 400)
    assert.equal(body.error.code, 'invalid_body')
    assert.equal(body.error.field, 'component')
    const noName = await fetch(`${base}/v1/envs/default/components`, { method: 'POST', body: (() => { const f = new FormData(); f.append('component', new Blob([new Uint8Array(8)])); return f })() })
    assert.equal(noName.status, 400)
    assert.equal((await noName.json() as { error: { field: string } }).error.field, 'name')
  })

  it('a body that is not multipart -> 415 unsupported_media_type', async () => {
    assertError(await call('POST', `${base}/v1/envs/default/components`, { name: 'json', component: 'AGFzbQ==' }), 415, 'unsupported_media_type')
    const raw = await fetch(`${base}/v1/components/${adder}`, { method: 'PATCH', body: await fixture('adder'), headers: { 'content-type': 'application/wasm' } })
    assert.equal(raw.status, 415)
    assert.equal((await raw.json() as { error: { code: string } }).error.code, 'unsupported_media_type')
  })

  it('wrong parameter types -> 400 invalid_params naming the parameter', async () => {
    const res = await invoke(base, adder, 'add', ['two', 3])
    assert.match(assertError(res, 400, 'invalid_params'), /parameter "a"/)
    assert.equal(res.body.error.param, 'a')
    assert.match(assertError(await invoke(base, adder, 'add', [1, 2 ** 31]), 400, 'invalid_params'), /parameter "b"/)
    assert.match(assertError(await invoke(base, adder, 'greet', [42]), 400, 'invalid_params'), /parameter "name"/)
    assert.match(assertError(await invoke(base, adder, 'add', { a: 1, b: 2 }), 400, 'invalid_params'), /array/)
  })

  it('wrong arity -> 400 invalid_params with expected and got', async () => {
    const res = await invoke(base, adder, 'add', [1])
    assert.match(assertError(res, 400, 'invalid_params'), /takes 2 parameters \(a, b\); got 1/)
    assert.equal(res.body.error.expected, 2)
    assert.equal(res.body.error.got, 1)
    assertError(await invoke(base, adder, 'add', [1, 2, 3]), 400, 'invalid_params')
  })

  it('an unknown function -> 404 function_not_found listing the exports; a missing ?function -> 400', async () => {
    const msg = assertError(await invoke(base, adder, 'subtract', [1, 2]), 404, 'function_not_found')
    assert.match(msg, /colony:adder\/math\.\{add\}/)
    assertError(await call('POST', `${base}/v1/components/${adder}/invoke-and-await`, { params: [] }), 400, 'invalid_params')
  })

  it('an unknown component -> 404 component_not_found on every route', async () => {
    const ghost = '00000000-0000-4000-8000-000000000000'
    assertError(await call('GET', `${base}/v1/components/${ghost}`), 404, 'component_not_found')
    assertError(await invoke(base, ghost, 'add', [1, 2]), 404, 'component_not_found')
    assertError(await update(base, ghost, await fixture('adder')), 404, 'component_not_found')
    assertError(await call('DELETE', `${base}/v1/components/${ghost}`), 404, 'component_not_found')
    assertError(await scale(base, ghost, 1), 404, 'component_not_found')
    assertError(await call('GET', `${base}/v1/envs/default/components/ghost`), 404, 'component_not_found')
    assert.equal((await download(base, ghost, 0)).status, 404)
  })

  it('a bad revision -> 404 revision_not_found', async () => {
    for (const revision of ['7', '-1', 'abc', '1.5']) {
      const res = await fetch(`${base}/v1/components/${adder}/revisions/${revision}/wasm`)
      assert.equal(res.status, 404, revision)
      assert.equal((await res.json() as { error: { code: string } }).error.code, 'revision_not_found', revision)
    }
    assert.equal((await download(base, adder, 0)).status, 200)
  })

  it('after all that the component still answers', async () => {
    assert.equal(await invokeOk(base, adder, 'add', [20, 22]), 42)
    const list = await call('GET', `${base}/v1/envs/default/components`)
    assert.deepEqual(list.body.map((c: { componentName: string }) => c.componentName), ['adder'], 'no refused upload left a component behind')
  })
})
