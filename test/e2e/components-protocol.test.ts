import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { call, create, fixture, invokeOk, scale } from '../helpers/components.js'

/** Rejects with the error's code, or fails when the ask succeeds. */
async function refusedCode (work: Promise<unknown>): Promise<string> {
  try {
    await work
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
  assert.fail('the ask was answered, not refused')
}

describe('components: the typed message protocol on a running host', () => {
  let colony: TestColony
  let base: string

  beforeEach(async () => {
    colony = await startColony()
    base = colony.rt.urls.http
  })
  afterEach(async () => {
    await colony?.close()
  })

  it('a component actor refuses what is not in its protocol at once, logs it, and still scales and answers', async () => {
    const id = await create(base, 'adder', await fixture('adder'))
    assert.equal((await scale(base, id, 1)).status, 200)
    const asks = colony.rt.system
    // Long timeouts: a refusal answers at once, where an ignored message would wait them out.
    assert.equal(await refusedCode(asks.ask(id, { type: 'resize', instances: 2 }, { timeoutMs: 10_000 })), 'message_unknown')
    assert.equal(await refusedCode(asks.ask(id, { type: 'scale', instances: 'two' }, { timeoutMs: 10_000 })), 'message_unknown')
    assert.ok(colony.logs.some((l) => l.msg === 'message refused: not part of the protocol, or malformed' && l.type === 'resize'))

    // The typed scale still resizes it, over REST as before, and it answers.
    const scaled = await scale(base, id, 2)
    assert.equal(scaled.status, 200, JSON.stringify(scaled.body))
    assert.equal(scaled.body.instances, 2)
    const actor = await call('GET', `${base}/api/actors/${id}`)
    assert.equal(actor.body.state, 'running')
    assert.equal(await invokeOk(base, id, 'add', [2, 3]), 5)
    assert.deepEqual(await asks.ask(id, { type: 'scale', instances: 3 }), { instances: 3 })
  })

  it('a provider actor refuses what is not a host call, and keeps running', async () => {
    assert.equal(await refusedCode(colony.rt.system.ask('keyvalue-provider', { type: 'invoke', function: 'get', params: [] }, { timeoutMs: 10_000 })),
      'message_unknown')
    assert.equal(await refusedCode(colony.rt.system.ask('logging-provider', { type: 'host-call', iface: 'wasi:logging/logging', method: 'log' }, { timeoutMs: 10_000 })),
      'message_unknown', 'a host call without args or source is malformed')
    assert.equal(colony.rt.system.get('keyvalue-provider')?.state, 'running')
    assert.equal(colony.rt.system.get('logging-provider')?.state, 'running')
  })
})
