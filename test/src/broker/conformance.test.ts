import assert from 'node:assert/strict'
import mqttPacket, { type IConnackPacket, type IPublishPacket } from 'mqtt-packet'
import type { Recorder } from '../../helpers/mqtt.js'
import type { BusMessage } from '../../../src/broker/bus.js'
import { useColonyBroker } from './fixture.js'
import { RawClient, rawPublish, rawSubscribe } from './raw-client.js'

/**
 * The MQTT 3.1.1 normative statements the embedded broker owns, each test named by its statement id, against a
 * real runtime on a free port. Colony's deliberate departures (runtime-owned and reserved topics) are asserted
 * at the end; the README's "MQTT conformance" section lists them.
 */
describe('broker: MQTT 3.1.1 conformance', () => {
  const b = useColonyBroker()
  const client = b.client

  async function raw (options: { clientId: string, clean?: boolean, keepalive?: number, will?: { topic: string, payload: Buffer, qos: 0, retain: false } }): Promise<RawClient> {
    const { client: c, connack } = await RawClient.connect(b.port, options)
    b.opened.push({ close: () => c.destroy() })
    assert.equal(connack.returnCode, 0)
    return c
  }

  async function rawOpen (): Promise<RawClient> {
    const c = await RawClient.open(b.port)
    b.opened.push({ close: () => c.destroy() })
    return c
  }

  /** Publishes from a fresh client and waits until `sub` has it: a barrier after which an absence means something. */
  async function roundTrip (sub: Recorder, topic: string): Promise<void> {
    const marker = `marker-${Math.random()}`
    const pub = await client()
    await pub.publish(topic, marker)
    await sub.next((m) => m.topic === topic && m.payload.toString() === marker, { what: `the marker on ${topic}` })
  }

  describe('client identifier and session', () => {
    it('[MQTT-3.1.3-6] a zero-byte client id with CleanSession 1 is accepted and given an id by the broker', async () => {
      const c = await raw({ clientId: '', clean: true })
      const ids = Object.keys((b.colony.rt.broker.aedes as unknown as { clients: Record<string, unknown> }).clients)
      assert.ok(ids.some((id) => id.length > 0 && id.startsWith('aedes_')), `an assigned id among ${ids.join(', ')}`)
      assert.deepEqual(await c.subscribe(1, { topic: 'conf/anon', qos: 0 }), [0])
    })

    it('[MQTT-3.1.3-8] a zero-byte client id with CleanSession 0 gets CONNACK 2 (identifier rejected) and the connection is closed', async () => {
      const c = await rawOpen()
      // mqtt-packet will not encode this CONNECT: encode it with CleanSession 1 and clear the flag (byte 9).
      const bytes = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: '', clean: true, keepalive: 0 })
      bytes[9] = (bytes[9] as number) & ~0x02
      const answer = c.next((p) => p.cmd === 'connack')
      c.sendRaw(bytes)
      const connack = await answer as IConnackPacket
      assert.equal(connack.returnCode, 2)
      assert.equal(connack.sessionPresent, false)
      await c.closedWithin(2000)
      assert.ok(b.colony.logs.some((l) => l.msg === 'mqtt connection error' && String(l.err).includes('MQTT-3.1.3-8')), 'the refusal is logged')
    })

    it('[MQTT-3.1.4-2] a second connection with the same client id closes the first', async () => {
      const first = await raw({ clientId: 'conf-takeover' })
      await raw({ clientId: 'conf-takeover' })
      await first.closedWithin(2000)
    })

    it('[MQTT-3.2.2-1] [MQTT-3.1.2-6] CleanSession 1: session present is 0 and an earlier session and its subscriptions are discarded', async () => {
      const first = await client({ clientId: 'conf-clean', clean: false })
      await first.client.subscribeAsync('conf/clean', { qos: 1 })
      await first.close()
      const wiped = await RawClient.connect(b.port, { clientId: 'conf-clean', clean: true })
      assert.equal(wiped.connack.sessionPresent, false)
      await wiped.client.disconnect()
      const again = await RawClient.connect(b.port, { clientId: 'conf-clean', clean: false })
      b.opened.push({ close: () => again.client.destroy() })
      assert.equal(again.connack.sessionPresent, false, 'no session was left to resume')
      const pub = await client()
      await pub.client.publishAsync('conf/clean', 'lost', { qos: 1 })
      // A subscription of its own on the same connection is a barrier: the message would have come first.
      const watcher = await client()
      await watcher.subscribe('conf/clean')
      await roundTrip(watcher, 'conf/clean')
      assert.equal(again.client.publishes('conf/clean').length, 0)
    })

    it('[MQTT-3.2.2-2] [MQTT-3.1.2-4] CleanSession 0: session present is 1 and the subscriptions are kept across the reconnect', async () => {
      const first = await client({ clientId: 'conf-keep', clean: false })
      await first.client.subscribeAsync('conf/keep', { qos: 1 })
      await first.close()
      const again = await RawClient.connect(b.port, { clientId: 'conf-keep', clean: false })
      b.opened.push({ close: () => again.client.destroy() })
      assert.equal(again.connack.sessionPresent, true)
      const pub = await client()
      await pub.client.publishAsync('conf/keep', 'kept', { qos: 1 })
      const got = await again.client.next((p) => p.cmd === 'publish') as IPublishPacket
      assert.equal(got.topic, 'conf/keep')
      assert.equal(got.payload.toString(), 'kept')
    })
  })

  describe('retained messages', () => {
    it('[MQTT-3.3.1-5] [MQTT-3.3.1-8] a retained message is stored and sent to a new subscriber with RETAIN 1', async () => {
      const pub = await client()
      await pub.publish('conf/retained/set', 'first', { retain: true })
      const sub = await client()
      await sub.subscribe('conf/retained/set')
      const m = await sub.next((x) => x.topic === 'conf/retained/set')
      assert.equal(m.payload.toString(), 'first')
      assert.equal(m.retain, true)
    })

    it('[MQTT-3.3.1-9] a live message matching an established subscription is sent with RETAIN 0, even when published retained', async () => {
      const sub = await client()
      await sub.subscribe('conf/retained/live')
      const pub = await client()
      await pub.publish('conf/retained/live', 'live', { retain: true })
      const m = await sub.next((x) => x.topic === 'conf/retained/live')
      assert.equal(m.retain, false)
    })

    it('[MQTT-3.3.1-5] a new retained message replaces the one stored for the topic', async () => {
      const pub = await client()
      await pub.publish('conf/retained/replace', 'old', { retain: true })
      await pub.publish('conf/retained/replace', 'new', { retain: true })
      const sub = await client()
      await sub.subscribe('conf/retained/replace')
      await sub.next((x) => x.topic === 'conf/retained/replace')
      await roundTrip(sub, 'conf/retained/replace')
      assert.deepEqual(sub.on('conf/retained/replace').filter((m) => m.retain).map((m) => m.payload.toString()), ['new'])
    })

    it('[MQTT-3.3.1-10] [MQTT-3.3.1-11] a retained message with an empty payload clears the topic and is not stored itself', async () => {
      const pub = await client()
      await pub.publish('conf/retained/clear', 'doomed', { retain: true })
      await pub.publish('conf/retained/clear', '', { retain: true })
      const sub = await client()
      await sub.subscribe('conf/retained/clear')
      await roundTrip(sub, 'conf/retained/clear')
      assert.equal(sub.on('conf/retained/clear').filter((m) => m.retain).length, 0)
    })
  })

  describe('message order', () => {
    for (const qos of [0, 1] as const) {
      it(`[MQTT-4.6.0-6] one client's QoS ${qos} messages on a topic arrive in the order sent, retained ones (stored first) included`, async () => {
        const sub = await client()
        await sub.client.subscribeAsync(`conf/order/${qos}`, { qos })
        const pub = await client()
        const sends: Array<Promise<unknown>> = []
        for (let i = 0; i < 60; i++) sends.push(pub.client.publishAsync(`conf/order/${qos}`, String(i), { qos, retain: i % 3 === 0 }))
        await Promise.all(sends)
        await sub.next(() => sub.on(`conf/order/${qos}`).length === 60, { what: '60 messages' })
        assert.deepEqual(sub.on(`conf/order/${qos}`).map((m) => Number(m.payload.toString())), Array.from({ length: 60 }, (_x, i) => i))
      })
    }
  })

  describe('subscriptions', () => {
    it('[MQTT-3.3.5-1] overlapping subscriptions: one copy, at the highest QoS of the matching subscriptions', async () => {
      const sub = await RawClient.connect(b.port, { clientId: 'conf-overlap' })
      b.opened.push({ close: () => sub.client.destroy() })
      await sub.client.subscribe(1, { topic: 'conf/overlap/+', qos: 0 }, { topic: 'conf/overlap/#', qos: 1 })
      const pub = await client()
      await pub.client.publishAsync('conf/overlap/x', 'one', { qos: 1 })
      await pub.client.publishAsync('conf/overlap/end', 'end', { qos: 1 })
      const end = await sub.client.next((p) => p.cmd === 'publish' && p.topic === 'conf/overlap/end') as IPublishPacket
      sub.client.send({ cmd: 'puback', messageId: end.messageId as number })
      const copies = sub.client.publishes('conf/overlap/x')
      assert.equal(copies.length, 1, 'one copy')
      assert.equal(copies[0]?.qos, 1, 'at QoS 1')
    })

    it('[MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with $', async () => {
      const wild = await client()
      await wild.subscribe('#', '+/+/new/clients')
      const sys = await client()
      await sys.subscribe('$SYS/+/new/clients')
      // Aedes announces each new client on $SYS/<broker id>/new/clients.
      await client({ clientId: 'conf-dollar' })
      await sys.next((m) => m.topic.endsWith('/new/clients') && m.payload.toString() === 'conf-dollar')
      await roundTrip(wild, 'conf/dollar')
      assert.equal(wild.received.filter((m) => m.topic.startsWith('$')).length, 0)
    })

    it('[MQTT-3.10.4-4] [MQTT-3.10.4-2] UNSUBSCRIBE is answered with UNSUBACK and stops delivery on that filter', async () => {
      const c = await raw({ clientId: 'conf-unsub' })
      await c.subscribe(1, { topic: 'conf/unsub', qos: 0 }, { topic: 'conf/unsub-other', qos: 0 })
      const unsuback = c.next((p) => p.cmd === 'unsuback' && p.messageId === 2)
      c.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['conf/unsub'] })
      await unsuback
      const pub = await client()
      await pub.publish('conf/unsub', 'gone')
      await pub.publish('conf/unsub-other', 'still here')
      await c.next((p) => p.cmd === 'publish' && p.topic === 'conf/unsub-other')
      assert.equal(c.publishes('conf/unsub').length, 0)
    })

    it('[MQTT-3.10.4-5] UNSUBSCRIBE of a filter the client never had is answered with UNSUBACK too', async () => {
      const c = await raw({ clientId: 'conf-unsub-none' })
      const unsuback = c.next((p) => p.cmd === 'unsuback' && p.messageId === 9)
      c.send({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: ['conf/never'] })
      await unsuback
    })
  })

  describe('keepalive, will, QoS 2', () => {
    it('[MQTT-3.1.2-24] a client silent for 1.5 times its keepalive is disconnected', async () => {
      const c = await raw({ clientId: 'conf-keepalive', keepalive: 1 })
      const start = performance.now()
      await c.closedWithin(4000)
      const ms = performance.now() - start
      assert.ok(ms >= 1400, `closed after ${Math.round(ms)} ms, not before 1.5 s`)
    })

    it('[MQTT-3.1.2-8] the will is published when the network connection closes without DISCONNECT', async () => {
      const watcher = await client()
      await watcher.subscribe('conf/will/abnormal')
      const c = await raw({ clientId: 'conf-will-1', will: { topic: 'conf/will/abnormal', payload: Buffer.from('gone'), qos: 0, retain: false } })
      await c.destroy()
      const will = await watcher.next((m) => m.topic === 'conf/will/abnormal')
      assert.equal(will.payload.toString(), 'gone')
    })

    it('[MQTT-3.1.2-8] the will is published when the broker closes the connection for a protocol violation', async () => {
      const watcher = await client()
      await watcher.subscribe('conf/will/violation')
      const c = await raw({ clientId: 'conf-will-3', will: { topic: 'conf/will/violation', payload: Buffer.from('refused'), qos: 0, retain: false } })
      c.sendRaw(rawPublish(Buffer.from('conf/nul\u0000')))
      await c.closedWithin(2000)
      const will = await watcher.next((m) => m.topic === 'conf/will/violation')
      assert.equal(will.payload.toString(), 'refused')
    })

    it('[MQTT-3.1.2-10] [MQTT-3.14.4-3] the will is discarded, not published, on DISCONNECT', async () => {
      const watcher = await client()
      await watcher.subscribe('conf/will/normal', '$SYS/+/disconnect/clients')
      const c = await raw({ clientId: 'conf-will-2', will: { topic: 'conf/will/normal', payload: Buffer.from('gone'), qos: 0, retain: false } })
      await c.disconnect()
      // Aedes announces the disconnect after it would have published the will.
      await watcher.next((m) => m.topic.endsWith('/disconnect/clients') && m.payload.toString() === 'conf-will-2')
      await roundTrip(watcher, 'conf/will/normal')
      assert.deepEqual(watcher.on('conf/will/normal').map((m) => m.payload.toString()).filter((p) => p === 'gone'), [])
    })

    it('[MQTT-4.3.3-2] QoS 2 from a client is delivered exactly once when the client resends it with DUP after a reconnect', async () => {
      const sub = await client()
      await sub.subscribe('conf/qos2')
      const first = await raw({ clientId: 'conf-qos2-pub', clean: false })
      const publish: IPublishPacket = { cmd: 'publish', topic: 'conf/qos2', payload: Buffer.from('exactly once'), qos: 2, messageId: 77, retain: false, dup: false }
      first.send(publish)
      await first.next((p) => p.cmd === 'pubrec' && p.messageId === 77)
      await first.destroy() // before PUBREL: the client does not know whether the broker took it
      const second = await raw({ clientId: 'conf-qos2-pub', clean: false })
      second.send({ ...publish, dup: true })
      await second.next((p) => p.cmd === 'pubrec' && p.messageId === 77)
      second.send({ cmd: 'pubrel', messageId: 77 })
      await second.next((p) => p.cmd === 'pubcomp' && p.messageId === 77)
      await roundTrip(sub, 'conf/qos2')
      assert.equal(sub.on('conf/qos2').filter((m) => m.payload.toString() === 'exactly once').length, 1)
    })
  })

  describe('protocol level and topic names', () => {
    it('[MQTT-3.1.2-2] an MQTT 5 CONNECT gets CONNACK 1 (unacceptable protocol version) and the connection is closed at once', async () => {
      const c = await rawOpen()
      const start = performance.now()
      const connack = await c.connect({ clientId: 'conf-v5', protocolVersion: 5 })
      assert.equal(connack.returnCode, 1)
      await c.closedWithin(2000)
      assert.ok(performance.now() - start < 2000)
    })

    /** Violations as qa-agent and the metrics see them. */
    function watchViolations (): { seen: BusMessage[], stop(): void } {
      const seen: BusMessage[] = []
      const stop = b.colony.rt.broker.bus.subscribe('system/violations', (m) => seen.push(m))
      return { seen, stop }
    }

    const topicCases: Array<{ id: string, what: string, packet: Buffer, code: string, reason: RegExp }> = [
      { id: '[MQTT-1.5.3-2]', what: 'a PUBLISH topic name containing U+0000', packet: rawPublish(Buffer.from('conf/nul\u0000x')), code: 'mqtt_invalid_topic', reason: /U\+0000/ },
      { id: '[MQTT-1.5.3-1]', what: 'a PUBLISH topic name that is not well-formed UTF-8', packet: rawPublish(Buffer.from([0x63, 0x2f, 0xc3, 0x28])), code: 'mqtt_invalid_topic', reason: /UTF-8/ },
      { id: '[MQTT-1.5.3-1]', what: 'a PUBLISH topic name encoding a UTF-16 surrogate', packet: rawPublish(Buffer.from([0x63, 0x2f, 0xed, 0xa0, 0x80])), code: 'mqtt_invalid_topic', reason: /UTF-8/ },
      { id: '[MQTT-3.3.2-2]', what: 'a PUBLISH topic name containing a wildcard', packet: rawPublish(Buffer.from('conf/+/x')), code: 'mqtt_invalid_topic', reason: /wildcard/ },
      { id: '[MQTT-1.5.3-2]', what: 'a SUBSCRIBE filter containing U+0000', packet: rawSubscribe(Buffer.from('conf/\u0000/#')), code: 'mqtt_invalid_filter', reason: /U\+0000/ },
      { id: '[MQTT-1.5.3-1]', what: 'a SUBSCRIBE filter that is not well-formed UTF-8', packet: rawSubscribe(Buffer.from([0x63, 0x2f, 0xff])), code: 'mqtt_invalid_filter', reason: /UTF-8/ },
    ]
    for (const [n, t] of topicCases.entries()) {
      it(`${t.id} ${t.what} closes the connection and is reported as a violation (system/violations, qa-agent alert, log, metric)`, async () => {
        const violations = watchViolations()
        const alerts = await client()
        await alerts.subscribe('agents/qa-agent/alert')
        const before = b.colony.rt.broker.stats().violations
        const clientId = `conf-topic-${n}`
        const c = await raw({ clientId })
        c.sendRaw(t.packet)
        await c.closedWithin(2000)
        try {
          const alert = await alerts.next((m) => m.json?.clientId === clientId, { what: 'the qa-agent alert' })
          assert.equal(alert.json.code, t.code)
          assert.equal(alert.json.severity, 'error')
          const v = violations.seen.map((m) => JSON.parse(m.payload.toString())).find((x) => x.clientId === clientId)
          assert.equal(v?.code, t.code)
          assert.match(v?.reason, t.reason)
          assert.equal(b.colony.rt.broker.stats().violations, before + 1)
          assert.ok(b.colony.logs.some((l) => (l.violation as { clientId?: string } | undefined)?.clientId === clientId && l.level === 40), 'a warn log line')
        } finally {
          violations.stop()
        }
      })
    }

    it('a refused topic name is not published, not even to the bus, and the metric counts it', async () => {
      const seen: BusMessage[] = []
      const stop = b.colony.rt.broker.bus.subscribe('conf/#', (m) => seen.push(m))
      try {
        const c = await raw({ clientId: 'conf-not-published' })
        c.sendRaw(Buffer.concat([rawPublish(Buffer.from('conf/bad\u0000')), rawPublish(Buffer.from('conf/after-bad'))]))
        await c.closedWithin(2000)
        const watcher = await client()
        await watcher.subscribe('conf/#')
        await roundTrip(watcher, 'conf/barrier')
        assert.deepEqual(seen.filter((m) => m.topic.startsWith('conf/bad') || m.topic === 'conf/after-bad'), [])
        const metrics = await (await fetch(`${b.colony.rt.urls.http}/metrics`)).text()
        assert.ok(Number(/^colony_mqtt_violations_total (\d+)$/m.exec(metrics)?.[1]) >= 1)
      } finally {
        stop()
      }
    })

    it('a valid multi-byte UTF-8 topic name is accepted', async () => {
      const sub = await client()
      await sub.subscribe('conf/ünï/★')
      const pub = await raw({ clientId: 'conf-utf8' })
      pub.sendRaw(rawPublish(Buffer.from('conf/ünï/★'), Buffer.from('ok')))
      const m = await sub.next((x) => x.topic === 'conf/ünï/★')
      assert.equal(m.payload.toString(), 'ok')
    })
  })

  describe("Colony's departures", () => {
    for (const [topic, why] of [
      ['agents/main-actor/status', /published by the actor itself/],
      ['system/health', /published by the runtime only/],
      ['$SYS/anything', /reserved for the broker/],
    ] as const) {
      it(`a client PUBLISH on ${topic} is refused: the connection is closed and the violation reported`, async () => {
        const seen: BusMessage[] = []
        const stop = b.colony.rt.broker.bus.subscribe('system/violations', (m) => seen.push(m))
        try {
          const c = await raw({ clientId: `conf-departure-${topic.length}` })
          c.send({ cmd: 'publish', topic, payload: Buffer.from('{}'), qos: 0, retain: false, dup: false })
          await c.closedWithin(2000)
          const v = seen.map((m) => JSON.parse(m.payload.toString())).find((x) => x.topic === topic)
          assert.equal(v?.code, 'publish_refused')
          assert.match(v?.reason, why)
        } finally {
          stop()
        }
      })
    }
  })
})
