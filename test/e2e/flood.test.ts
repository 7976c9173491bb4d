import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { killAll, startCli } from '../helpers/cli.js'
import { call, create, fixture, scale } from '../helpers/components.js'

/** Publishes `count` messages as fast as the client takes them (500 written at a time); resolves once all are. */
async function flood (client: MqttClient, count: number, message: (n: number) => [topic: string, payload: unknown]): Promise<void> {
  for (let from = 0; from < count; from += 500) {
    const written: Array<Promise<unknown>> = []
    for (let n = from; n < Math.min(count, from + 500); n++) {
      const [topic, payload] = message(n)
      written.push(client.publishAsync(topic, JSON.stringify(payload), { qos: 0 }))
    }
    await Promise.all(written)
  }
}

/** `count` POSTs to /api/chat, `parallel` at a time; resolves with the statuses. */
async function floodRest (url: string, count: number, parallel: number): Promise<number[]> {
  const statuses: number[] = []
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < count) {
      const n = next++
      const res = await call('POST', url, { from: 'rest-flood', content: `agents ${n}` })
      statuses.push(res.status)
    }
  }
  await Promise.all(Array.from({ length: parallel }, lane))
  return statuses
}

describe('a burst on every inbound door (issue 10 item 5)', () => {
  afterEach(() => { killAll() })

  it('with ordinary subscribers attached the process survives, answers, and reports the overflow as alerts', async function () {
    this.timeout(40_000)
    // Small mailboxes and call queue: the floods below overflow them within the first few hundred messages.
    const run = await startCli([], { COLONY_ACTORS_MAILBOX_CAPACITY: '100', COLONY_WASM_MAX_QUEUED_CALLS: '10' })
    const base = run.urls.http
    const opened: Recorder[] = []
    const open = async (url = run.urls.mqtt): Promise<Recorder> => {
      const r = await connect(url)
      opened.push(r)
      return r
    }
    try {
      const componentId = await create(base, 'flood-adder', await fixture('adder'))
      assert.equal((await scale(base, componentId, 1)).status, 200)

      // The subscribers that turned the burst into a crash: they make the broker's deliveries asynchronous.
      const [status, chat, alerts, health] = await Promise.all([open(), open(), open(), open()])
      await status.subscribe('agents/+/status')
      await chat.subscribe('agents/+/chat')
      await alerts.subscribe('agents/+/alert')
      await health.subscribe('system/health')
      const replies = await open()
      await replies.subscribe(`agents/${componentId}/reply`)

      const tcp = await open()
      const commands = await open()
      const invoker = await open()
      const malformed = await open()
      const ws = await open(`${base.replace(/^http/, 'ws')}/mqtt`)
      const floods = Promise.all([
        floodRest(`${base}/api/chat`, 400, 20),
        flood(tcp.client, 5000, (n) => ['io/chat', { from: 'x', content: `@main-actor agents ${n}` }]),
        flood(ws.client, 3000, (n) => ['agents/main-actor/chat', { from: 'ws', content: `agents ${n}` }]),
        flood(commands.client, 1000, () => ['agents/main-actor/commands', { command: 'pause' }]),
        flood(invoker.client, 3000, (n) => [`agents/${componentId}/invoke`, { id: `f${n}`, function: 'add', params: [n, 1] }]),
        // Refused at once (no function), answered on a topic no client reads: publishes made inside a delivery.
        flood(malformed.client, 10_000, (n) => [`agents/${componentId}/invoke`, { id: `m${n}`, replyTo: `agents/${componentId}/reply/unread` }]),
      ])
      // A crash shows as the exit (its stack on stderr), not as the client errors it causes.
      let stopping = false
      const crashed = run.exited.then(({ code }): never => {
        throw new Error(stopping ? 'stopped' : `colony exited with ${code} during the test:\n${run.stderr.slice(-12).join('\n')}`)
      })
      // Whichever loses the race below settles later, with nobody left to listen.
      crashed.catch(() => undefined)
      floods.catch(() => undefined)
      const [restStatuses] = await Promise.race([floods, crashed])

      // Every invocation is answered: a sum, or mailbox_full for those the call queue (or mailbox) refused.
      await replies.next(() => replies.on(`agents/${componentId}/reply`).length >= 3000, { timeoutMs: 20_000, what: '3000 invoke replies' })
      const answers = replies.on(`agents/${componentId}/reply`).map((m) => m.json as { result?: number, error?: { code: string } })
      const refused = answers.filter((a) => a.error?.code === 'mailbox_full').length
      assert.ok(refused > 0, 'the call queue overflowed')
      assert.equal(answers.filter((a) => a.result !== undefined).length + refused, 3000, JSON.stringify(answers.find((a) => a.result === undefined && a.error?.code !== 'mailbox_full')))
      assert.ok(restStatuses.every((s) => s === 202 || s === 503), `REST chat statuses: ${[...new Set(restStatuses)].join(', ')}`)

      // Still alive and answering, on REST and on an MQTT round trip.
      const ok = await call('GET', `${base}/api/health`)
      assert.equal(ok.status, 200, JSON.stringify(ok.body))
      const probe = await open()
      await probe.subscribe('agents/main-actor/chat')
      await probe.publish('io/chat', { from: 'probe', id: 'probe-1', content: '@main-actor help' })
      await probe.next((m) => m.json?.inReplyTo === 'probe-1', { timeoutMs: 15_000, what: 'main-actor\'s reply to the probe' })
      const sum = await call('POST', `${base}/v1/components/${componentId}/invoke-and-await?function=add`, { params: [2, 3] })
      assert.equal(sum.status, 200, JSON.stringify(sum.body))

      // The overflow was reported: mailbox_full warnings on agents/{id}/alert, seen by the ordinary subscriber.
      const full = alerts.received.filter((m) => m.json?.code === 'mailbox_full')
      assert.ok(full.length > 0, 'no mailbox_full alert')
      assert.ok(full.every((m) => m.json.severity === 'warning' && m.topic === `agents/${m.json.agentId as string}/alert`))
      // Which mailboxes overflow first depends on the machine; only the flooded actors may report it.
      const flooded = new Set(['main-actor', 'io-agent', 'qa-agent', componentId])
      assert.ok(full.every((m) => flooded.has(m.json.agentId as string)), [...new Set(full.map((m) => m.json.agentId as string))].join(', '))
      // One alert per episode (a mailbox refills from half), not one per refused message: a flood must not become
      // an alert storm of its own.
      const metrics = await fetch(`${base}/metrics`).then((r) => r.text())
      const rejected = Number(/^colony_mailbox_rejected_total (\d+)/m.exec(metrics)?.[1])
      assert.ok(rejected > 0, 'colony_mailbox_rejected_total counted the refusals')
      assert.ok(full.length < Math.max(20, rejected / 5), `${full.length} mailbox_full alerts for ${rejected} refused messages`)

      stopping = true
      run.child.kill('SIGTERM')
      assert.equal((await run.exited).code, 0)
    } finally {
      await Promise.all(opened.map((r) => r.close()))
      run.child.kill('SIGKILL')
    }
  })
})
