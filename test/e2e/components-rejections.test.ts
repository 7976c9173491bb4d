import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { assertHealthy, call, create, fixture, invokeOk, scale } from '../helpers/components.js'

/** A JSON list nested `depth` deep: JSON.parse takes it, anything that walks it recursively overflows the stack. */
function deepList (depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth)
}

async function metric (base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  assert.ok(line !== undefined, `${name} is not in /metrics`)
  return Number(line.slice(name.length + 1))
}

describe('components: hostile parameters and counted rejections (issue 10 item 9)', () => {
  let colony: TestColony
  let base: string
  let mqtt: Recorder

  afterEach(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  describe('a parameter nested 100 000 lists deep', () => {
    beforeEach(async () => {
      colony = await startColony()
      base = colony.rt.urls.http
      mqtt = await connect(colony.rt.urls.mqtt)
    })

    it('is a 400 on REST invoke-and-await and an error reply on MQTT, never a 500; any nesting the doors let in is invalid_params', async () => {
      const id = await create(base, 'adder', await fixture('adder'))
      const post = async (path: string, body: string): Promise<{ status: number, error: { code: string, message: string } }> => {
        const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        return { status: res.status, error: (await res.json() as { error: { code: string, message: string } }).error }
      }
      const deep = await post(`/v1/components/${id}/invoke-and-await?function=add`, `{"params":[${deepList(100_000)},1]}`)
      assert.equal(deep.status, 400, JSON.stringify(deep))
      assert.equal(deep.error.code, 'invalid_body')
      assert.equal(deep.error.message, 'request body nests deeper than 256 levels of arrays and objects')
      // Within the doors' limit the converter names the parameter and shows the start of the value.
      const nested = await post(`/v1/components/${id}/invoke-and-await?function=add`, `{"params":[${deepList(250)},1]}`)
      assert.equal(nested.status, 400, JSON.stringify(nested))
      assert.equal(nested.error.code, 'invalid_params')
      assert.match(nested.error.message, /^parameter "a": expected .*, got \[\[\[\[.*\.\.\.$/)

      await mqtt.subscribe(`agents/${id}/reply`)
      await mqtt.publish(`agents/${id}/invoke`, `{"id":"deep","function":"add","params":[${deepList(100_000)},1]}`)
      const reply = await mqtt.next((m) => m.json?.id === 'deep', { what: 'the reply to the deep invocation' })
      assert.deepEqual(reply.json.error, { code: 'wire_invalid_payload', message: 'payload nests deeper than 256 levels of arrays and objects' })

      // Every other JSON route refuses it the same way.
      for (const path of ['/api/chat', `/v1/components/${id}/scale`, '/api/actors']) {
        const res = await post(path, `{"x":${deepList(100_000)}}`)
        assert.equal(res.status, 400, `${path}: ${JSON.stringify(res)}`)
        assert.equal(res.error.code, 'invalid_body', path)
      }

      await assertHealthy(base)
      assert.equal(await invokeOk(base, id, 'add', [2, 3]), 5)
    })
  })

  describe('colony_mailbox_rejected_total', () => {
    beforeEach(async () => {
      // One instance and two waiting calls: a burst overflows the call queue; a small mailbox overflows as well.
      colony = await startColony({ config: { wasm: { maxQueuedCalls: 2 }, actors: { mailboxCapacity: 50 } } })
      base = colony.rt.urls.http
      mqtt = await connect(colony.rt.urls.mqtt)
    })

    it('counts every request answered mailbox_full, from the call queue and from the mailbox, each once', async () => {
      const id = await create(base, 'adder', await fixture('adder'))
      assert.equal((await scale(base, id, 1)).status, 200)
      assert.equal(await metric(base, 'colony_mailbox_rejected_total'), 0)
      await mqtt.subscribe(`agents/${id}/reply`)

      const N = 400
      const published = Array.from({ length: N }, (_, n) => mqtt.publish(`agents/${id}/invoke`, { id: `b${n}`, function: 'add', params: [n, 1] }))
      const rest = await Promise.all(Array.from({ length: 60 }, (_, n) => call('POST', `${base}/v1/components/${id}/invoke-and-await?function=add`, { params: [n, 2] })))
      await Promise.all(published)
      await mqtt.next(() => mqtt.on(`agents/${id}/reply`).length >= N, { timeoutMs: 10_000, what: `${N} replies` })

      const replies = mqtt.on(`agents/${id}/reply`).map((m) => m.json as { result?: number, error?: { code: string, message: string } })
      const mqttRefused = replies.filter((r) => r.error?.code === 'mailbox_full')
      const restRefused = rest.filter((r) => r.status === 503 && r.body?.error?.code === 'mailbox_full')
      assert.equal(replies.filter((r) => r.result !== undefined).length + mqttRefused.length, N, 'every call is answered with a sum or mailbox_full')
      assert.equal(rest.filter((r) => r.status === 200).length + restRefused.length, rest.length, JSON.stringify(rest.find((r) => r.status !== 200 && r.status !== 503)?.body))
      // Both queues refused some: the count below covers both paths.
      const messages = [...mqttRefused.map((r) => r.error?.message ?? ''), ...restRefused.map((r) => r.body.error.message as string)]
      assert.ok(messages.some((m) => m.includes('instances are busy')), 'the call queue refused some calls')
      assert.ok(messages.some((m) => m.includes('mailbox of')), 'the mailbox refused some calls')

      assert.equal(await metric(base, 'colony_mailbox_rejected_total'), mqttRefused.length + restRefused.length)
    })
  })
})
