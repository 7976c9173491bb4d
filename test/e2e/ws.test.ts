import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { WebSocket } from 'ws'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect } from '../helpers/mqtt.js'
import { get } from '../helpers/http.js'
import { neverReadingClient, StreamRecorder } from '../helpers/ws.js'

describe('/ws stream', () => {
  let colony: TestColony
  const open: StreamRecorder[] = []
  const raw: Socket[] = []

  beforeEach(async () => {
    colony = await startColony({ config: { ws: { maxQueuedMessages: 500 } } })
  })
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()))
    for (const s of raw.splice(0)) s.destroy()
    await colony?.close()
  })

  async function stream (query = ''): Promise<StreamRecorder> {
    const client = await StreamRecorder.open(`${colony.rt.urls.ws}${query}`)
    open.push(client)
    return client
  }

  it('streams heartbeats as {topic, payload} with the JSON payload parsed', async () => {
    const client = await stream()
    await client.until(() => client.frames.some((f) => f.topic === 'agents/main-actor/heartbeat'))
    const beat = client.frames.find((f) => f.topic === 'agents/main-actor/heartbeat')
    assert.deepEqual(Object.keys(beat).sort(), ['payload', 'topic'])
    assert.equal(beat.payload.agentId, 'main-actor')
    assert.equal(beat.payload.state, 'running')
    assert.equal(typeof beat.payload.timestampMs, 'number')
  })

  it('?topics= narrows the stream with MQTT filters', async () => {
    const narrow = await stream('?topics=agents/io-agent/heartbeat,system/%2B')
    const wide = await stream()
    await narrow.until(() => narrow.frames.filter((f) => f.topic === 'agents/io-agent/heartbeat').length >= 2 &&
      narrow.frames.some((f) => f.topic === 'system/health'))
    await wide.until(() => wide.frames.some((f) => f.topic === 'agents/main-actor/heartbeat'))
    const topics = new Set(narrow.frames.map((f) => f.topic))
    assert.deepEqual([...topics].sort(), ['agents/io-agent/heartbeat', 'system/health'])
  })

  it('text and binary payloads from MQTT clients arrive as text and as base64', async () => {
    const client = await stream('?topics=sensors/%23')
    const mqtt = await connect(colony.rt.urls.mqtt)
    try {
      await mqtt.publish('sensors/a', 'plain text, not JSON')
      await mqtt.publish('sensors/b', Buffer.from([0xff, 0xfe, 0x00, 0x01]))
      await mqtt.publish('sensors/c', '{"t": 21.5}')
      await client.until(() => client.frames.length >= 3)
    } finally {
      await mqtt.close()
    }
    assert.deepEqual(client.frames, [
      { topic: 'sensors/a', payload: 'plain text, not JSON' },
      { topic: 'sensors/b', payload: Buffer.from([0xff, 0xfe, 0x00, 0x01]).toString('base64'), encoding: 'base64' },
      { topic: 'sensors/c', payload: { t: 21.5 } },
    ])
  })

  it('an invalid topic filter is refused with 400 and a code before the upgrade', async () => {
    for (const bad of ['a/%23/b', 'a%2Bb', '']) {
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${colony.rt.urls.ws}?topics=${bad}`)
        ws.on('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode ?? 0) })
        ws.on('open', () => { ws.close(); reject(new Error(`filter "${bad}" was accepted`)) })
        ws.on('error', () => undefined)
      })
      assert.equal(status, 400, bad)
    }
  })

  it('100 clients with one that never reads: the other 99 receive everything', async function () {
    this.timeout(30_000)
    const clients: StreamRecorder[] = []
    for (let i = 0; i < 99; i++) clients.push(await stream('?topics=bench/%23'))
    raw.push(await neverReadingClient(`${colony.rt.urls.ws}?topics=%23`))
    const count = 400
    const pad = 'x'.repeat(256)
    for (let seq = 0; seq < count; seq++) {
      colony.rt.broker.bus.publish('bench/seq', { seq, pad })
      // A flood only the never-reading client subscribes to, to fill its socket and its queue.
      for (let k = 0; k < 20; k++) colony.rt.broker.bus.publish('flood/x', { seq, k, pad: pad.repeat(8) })
      if (seq % 5 === 4) await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(clients.map((c) => c.until(() => c.frames.filter((f) => f.topic === 'bench/seq').length === count, 25_000, 'all bench frames')))
    for (const c of clients) {
      const seqs = c.frames.filter((f) => f.topic === 'bench/seq').map((f) => f.payload.seq)
      assert.deepEqual(seqs, Array.from({ length: count }, (_, i) => i))
    }
    const metrics = (await fetch(`${colony.rt.urls.http}/metrics`).then((r) => r.text()))
    const dropped = Number(/^colony_ws_dropped_total (\d+)/m.exec(metrics)?.[1])
    assert.ok(dropped > 0, 'the never-reading client overflowed and its messages were dropped and counted')
    assert.match(metrics, /^colony_ws_clients 100$/m)
  })

  it('ten clients on everything, one never reads: the nine keep up with a 20 MB flood', async function () {
    this.timeout(30_000)
    const clients: StreamRecorder[] = []
    for (let i = 0; i < 9; i++) clients.push(await stream('?topics=flood/%23'))
    raw.push(await neverReadingClient(`${colony.rt.urls.ws}?topics=flood/%23`))
    const count = 10_000
    const pad = 'y'.repeat(2048)
    // Paced like real traffic (a burst of 100, then the event loop turns), not one 20 MB synchronous burst.
    for (let seq = 0; seq < count; seq++) {
      colony.rt.broker.bus.publish('flood/x', { seq, pad })
      if (seq % 100 === 99) await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(clients.map((c) => c.until(() => c.frames.length === count, 25_000, 'the whole flood')))
    for (const c of clients) assert.equal(c.frames[count - 1].payload.seq, count - 1)
    const metrics = await fetch(`${colony.rt.urls.http}/metrics`).then((r) => r.text())
    assert.ok(Number(/^colony_ws_dropped_total (\d+)/m.exec(metrics)?.[1]) > 0, 'the never-reading client was dropped from, not waited for')
    const health = await get(`${colony.rt.urls.http}/api/actors/ws-bridge`)
    assert.equal(health.body.state, 'running')
  })

  it('on shutdown clients get close code 1001', async () => {
    const client = await stream()
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)))
    await colony.close()
    assert.equal(await closed, 1001)
  })
})
