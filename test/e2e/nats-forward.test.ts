import assert from 'node:assert/strict'
import { connect as natsConnect, type Msg, type NatsConnection } from '@nats-io/transport-node'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { Wash } from '../helpers/wash.js'

const RULES = 'sensors/# <-> sensors.>; alerts/+ -> colony.alerts.*; devices/+/set <- fleet.*.set'

/**
 * MQTT <-> NATS forwarding by rules, between two Colony hosts on one NATS: every message crosses once, in the
 * configured directions, and never comes back.
 */
describe('NATS bridge: MQTT <-> NATS forwarding rules', function () {
  this.timeout(30_000)
  let nats: NatsServer
  let a: TestColony
  let b: TestColony
  let mqttA: Recorder
  let mqttB: Recorder
  let nc: NatsConnection
  const seen: Msg[] = []
  let waiters: Array<() => void> = []

  /** The first NATS message (from `from`) whose subject and payload match. */
  const natsNext = (subject: string, text: string, from: number): Promise<Msg> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no NATS message ${subject} "${text}"`)), 5000)
    const check = (): void => {
      const m = seen.slice(from).find((x) => x.subject === subject && x.string() === text)
      if (m !== undefined) {
        clearTimeout(timer)
        resolve(m)
      } else waiters.push(check)
    }
    check()
  })
  const natsCount = (subject: string, text: string): number => seen.filter((x) => x.subject === subject && x.string() === text).length
  const mqttCount = (r: Recorder, topic: string, text: string): number => r.received.filter((m) => m.topic === topic && m.payload.toString() === text).length

  before(async () => {
    nats = await startNatsServer()
    const config = { nats: { url: nats.url, heartbeatIntervalMs: 200, bridge: RULES } }
    a = await startColony({ config })
    b = await startColony({ config })
    // Both hosts are on the lattice (their heartbeats reach a client that subscribed first).
    const wash = await Wash.connect(nats.url)
    const ids = new Set<string>()
    while (ids.size < 2) ids.add((await wash.event('host_heartbeat', (e) => !ids.has(e.source), { from: wash.mark })).source)
    await wash.close()
    mqttA = await connect(a.rt.urls.mqtt)
    mqttB = await connect(b.rt.urls.mqtt)
    await mqttA.subscribe('sensors/#', 'alerts/#', 'devices/#')
    await mqttB.subscribe('sensors/#', 'alerts/#', 'devices/#')
    nc = await natsConnect({ servers: nats.url })
    nc.subscribe('>', {
      callback: (_err, msg) => {
        if (msg.subject.startsWith('wasmbus.') || msg.subject.startsWith('_INBOX.')) return
        seen.push(msg)
        const w = waiters
        waiters = []
        for (const f of w) f()
      },
    })
    await nc.flush()
  })
  after(async () => {
    await nc?.drain()
    await mqttA?.close()
    await mqttB?.close()
    await a?.close()
    await b?.close()
    await nats?.stop()
  })

  it('MQTT on host A -> NATS once (with Colony-Origin) -> MQTT on host B once; nothing loops back', async () => {
    const from = seen.length
    await mqttA.client.publishAsync('sensors/kitchen/temp', '21.5')
    const onNats = await natsNext('sensors.kitchen.temp', '21.5', from)
    assert.match(onNats.headers?.get('Colony-Origin') ?? '', /^N[A-Z2-7]{55}$/)
    await mqttB.next((m) => m.topic === 'sensors/kitchen/temp' && m.payload.toString() === '21.5', { what: 'the message on host B' })
    // A marker sent after it: once the marker has crossed everywhere, a loop would have repeated the first.
    await mqttA.client.publishAsync('sensors/kitchen/temp', 'marker-1')
    await natsNext('sensors.kitchen.temp', 'marker-1', from)
    await mqttB.next((m) => m.payload.toString() === 'marker-1', { what: 'the marker on B' })
    await mqttA.next((m) => m.payload.toString() === 'marker-1', { what: 'the marker on A' })
    assert.equal(natsCount('sensors.kitchen.temp', '21.5'), 1)
    assert.equal(mqttCount(mqttB, 'sensors/kitchen/temp', '21.5'), 1)
    assert.equal(mqttCount(mqttA, 'sensors/kitchen/temp', '21.5'), 1, 'A sees only the original')
  })

  it('NATS -> MQTT on both hosts once, and neither host sends it back to NATS', async () => {
    const from = seen.length
    nc.publish('sensors.garage.door', 'open')
    nc.publish('sensors.garage.door', 'marker-2')
    for (const r of [mqttA, mqttB]) await r.next((m) => m.topic === 'sensors/garage/door' && m.payload.toString() === 'marker-2', { what: 'the marker' })
    await natsNext('sensors.garage.door', 'marker-2', from)
    assert.equal(mqttCount(mqttA, 'sensors/garage/door', 'open'), 1)
    assert.equal(mqttCount(mqttB, 'sensors/garage/door', 'open'), 1)
    assert.equal(natsCount('sensors.garage.door', 'open'), 1, 'only the original on NATS')
  })

  it('one-way rules: alerts go MQTT -> NATS only, fleet commands NATS -> MQTT only, wildcards carried over', async () => {
    const from = seen.length
    await mqttA.client.publishAsync('alerts/fire', 'hot')
    await natsNext('colony.alerts.fire', 'hot', from)
    nc.publish('fleet.robot-7.set', '{"speed":3}')
    const set = await mqttA.next((m) => m.topic === 'devices/robot-7/set', { what: 'the fleet command on A' })
    assert.deepEqual(set.json, { speed: 3 })
    await mqttB.next((m) => m.topic === 'devices/robot-7/set', { what: 'the fleet command on B' })
    // The reverse directions are not bridged: an MQTT devices/... message stays on MQTT, a NATS alert on NATS.
    await mqttA.client.publishAsync('devices/robot-7/set', 'local-only')
    nc.publish('colony.alerts.flood', 'nats-only')
    await mqttA.client.publishAsync('sensors/x', 'marker-3')
    await mqttB.next((m) => m.payload.toString() === 'marker-3', { what: 'the marker' })
    assert.equal(seen.filter((m) => m.string() === 'local-only').length, 0)
    assert.equal(mqttA.received.filter((m) => m.payload.toString() === 'nats-only').length, 0)
  })

  it('a topic level NATS cannot carry (a dot in it) is skipped and counted, not mangled', async () => {
    const from = seen.length
    const beat = mqttA.next((m) => m.topic === 'agents/nats-bridge/heartbeat' && (m.json?.forwardSkipped ?? 0) >= 1,
      { from: mqttA.mark, what: 'a bridge heartbeat counting the skip', timeoutMs: 5000 })
    await mqttA.subscribe('agents/nats-bridge/heartbeat')
    await mqttA.client.publishAsync('sensors/v1.2/temp', 'dotted')
    await mqttA.client.publishAsync('sensors/v1/temp', 'marker-4')
    await natsNext('sensors.v1.temp', 'marker-4', from)
    assert.equal(seen.slice(from).filter((m) => m.string() === 'dotted').length, 0)
    await beat
  })
})
