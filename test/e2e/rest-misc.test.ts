import assert from 'node:assert/strict'
import { BRIDGE_ACTORS, startColony, SYSTEM_ACTORS, type TestColony } from '../helpers/runtime.js'
import { connect } from '../helpers/mqtt.js'
import { get, request } from '../helpers/http.js'

describe('REST health, metrics, caching; MQTT over WebSocket', () => {
  let colony: TestColony

  before(async () => {
    colony = await startColony()
  })
  after(async () => {
    await colony?.close()
  })

  it('GET /api/health reports the runtime', async () => {
    const res = await get(`${colony.rt.urls.http}/api/health`)
    assert.equal(res.status, 200)
    assert.equal(res.body.status, 'ok')
    assert.equal(res.body.actors, SYSTEM_ACTORS.length + BRIDGE_ACTORS.length)
    assert.match(res.body.version, /^\d+\.\d+\.\d+/)
  })

  it('GET /metrics exposes actors by state, messages, mailboxes, restarts, alerts and MQTT in Prometheus text', async () => {
    const mqtt = await connect(colony.rt.urls.mqtt)
    try {
      await mqtt.publish('io/chat', { id: 'metrics-1', content: 'help' })
      await mqtt.subscribe('agents/main-actor/chat')
      await mqtt.next((m) => m.json?.inReplyTo === 'metrics-1')
      const res = await fetch(`${colony.rt.urls.http}/metrics`)
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
      const text = await res.text()
      assert.match(text, /^# TYPE colony_actors gauge$/m)
      assert.match(text, new RegExp(`^colony_actors\\{state="running"\\} ${SYSTEM_ACTORS.length + BRIDGE_ACTORS.length}$`, 'm'))
      assert.ok(Number(/^colony_messages_processed_total (\d+)$/m.exec(text)?.[1]) >= 2)
      assert.match(text, /^colony_mailbox_depth \d+$/m)
      assert.match(text, /^colony_actor_restarts_total 0$/m)
      assert.match(text, /^colony_alerts_total\{severity="critical"\} 0$/m)
      assert.match(text, /^colony_mqtt_clients 1$/m)
      assert.ok(Number(/^colony_mqtt_messages_received_total (\d+)$/m.exec(text)?.[1]) >= 1)
      assert.match(text, /^colony_heartbeats_total \d+$/m)
    } finally {
      await mqtt.close()
    }
  })

  it('GET /api/actors carries an ETag that changes with the registry; If-None-Match gets 304', async () => {
    const first = await fetch(`${colony.rt.urls.http}/api/actors`)
    const etag = first.headers.get('etag') ?? ''
    assert.match(etag, /^W\/"actors-\d+-[0-9a-f]{8}"$/)
    await first.arrayBuffer()
    const again = await fetch(`${colony.rt.urls.http}/api/actors`, { headers: { 'if-none-match': etag } })
    assert.equal(again.status, 304)
    const { id } = await colony.rt.system.spawn('echo', { name: 'etag-probe' })
    const changed = await fetch(`${colony.rt.urls.http}/api/actors`, { headers: { 'if-none-match': etag } })
    assert.equal(changed.status, 200)
    assert.notEqual(changed.headers.get('etag'), etag)
    assert.ok(((await changed.json()) as Array<{ id: string }>).some((a) => a.id === id))
    await colony.rt.system.remove(id)
  })

  it('GET /api/actors?include=heartbeat adds each actor\'s last heartbeat and its age, uncached; other values are 400', async () => {
    const { id } = await colony.rt.system.spawn('echo', { name: 'beat-probe' })
    const before = Date.now()
    const beat = await new Promise<number>((resolve) => {
      const off = colony.rt.broker.bus.subscribe(`agents/${id}/heartbeat`, (m) => { off(); resolve(JSON.parse(m.payload.toString()).timestampMs) })
    })
    const res = await fetch(`${colony.rt.urls.http}/api/actors?include=heartbeat`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('etag'), null, 'changes with every beat: no ETag')
    assert.equal(res.headers.get('cache-control'), 'no-store')
    const list = await res.json() as any[]
    const entry = list.find((a) => a.id === id)
    assert.ok(entry.lastHeartbeatMs >= beat, 'the beat seen, or a later one')
    assert.ok(entry.heartbeatAgeMs >= 0 && entry.heartbeatAgeMs <= Date.now() - before, `age ${entry.heartbeatAgeMs} ms`)
    assert.equal(entry.name, 'beat-probe')
    assert.equal(entry.state, 'running')
    const plain = (await get(`${colony.rt.urls.http}/api/actors`)).body.find((a: any) => a.id === id)
    assert.equal('lastHeartbeatMs' in plain, false, 'the cached list stays as it was')
    for (const bad of ['?include=mailbox', '?include=heartbeat&include=heartbeat', '?include=']) {
      const refused = await get(`${colony.rt.urls.http}/api/actors${bad}`)
      assert.equal(refused.status, 400, bad)
      assert.equal(refused.body.error.code, 'invalid_query')
    }
    await colony.rt.system.remove(id)
  })

  it('GET /api/kinds lists what can be spawned', async () => {
    const res = await get(`${colony.rt.urls.http}/api/kinds`)
    assert.deepEqual(res.body.map((k: any) => k.kind), ['echo'])
  })

  it('unknown routes anywhere get a JSON 404; a wrong method a 405 with Allow', async () => {
    const res = await get(`${colony.rt.urls.http}/nothing`)
    assert.equal(res.status, 404)
    assert.equal(res.body.error.code, 'route_not_found')
    const wrong = await request('PUT', `${colony.rt.urls.http}/api/actors`)
    assert.equal(wrong.status, 405)
    assert.match(wrong.headers.get('allow') ?? '', /GET/)
  })

  it('MQTT over WebSocket at /mqtt works like TCP', async () => {
    const ws = await connect(colony.rt.urls.mqttWs)
    try {
      await ws.subscribe('agents/+/heartbeat', 'agents/main-actor/chat')
      await ws.next((m) => m.topic === 'agents/io-agent/heartbeat')
      await ws.publish('io/chat', { id: 'over-ws', content: 'help' })
      const reply = await ws.next((m) => m.json?.inReplyTo === 'over-ws')
      assert.match(reply.json.content, /main-actor understands:/)
    } finally {
      await ws.close()
    }
  })

  it('retained and plain publishes from clients interleaved with heartbeats all reach a subscriber (Aedes dedupe regression)', async () => {
    const sub = await connect(colony.rt.urls.mqtt)
    const pubs = await Promise.all([connect(colony.rt.urls.mqtt), connect(colony.rt.urls.mqtt)])
    try {
      await sub.subscribe('mix/#', 'agents/+/heartbeat')
      const n = 300
      await Promise.all(pubs.map(async (p, k) => {
        for (let i = 0; i < n; i++) {
          void p.publish(`mix/${k}/${i % 7}`, JSON.stringify({ k, i }), { retain: i % 2 === 0 })
          if (i % 10 === 0) colony.rt.broker.bus.publish('mix/internal', { k, i })
        }
      }))
      const expected = 2 * n + 2 * Math.ceil(n / 10)
      await sub.next(() => sub.received.filter((m) => m.topic.startsWith('mix/')).length >= expected, { timeoutMs: 10_000, what: `${expected} mix messages` })
      assert.equal(sub.received.filter((m) => m.topic.startsWith('mix/')).length, expected)
    } finally {
      await Promise.all([sub.close(), ...pubs.map((p) => p.close())])
    }
  })
})
