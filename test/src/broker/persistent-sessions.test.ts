import assert from 'node:assert/strict'
import type { IPublishPacket } from 'mqtt-packet'
import { useColonyBroker } from './fixture.js'
import { RawClient } from './raw-client.js'

/**
 * Persistent sessions (`clean: false`) on the embedded broker: QoS 1/2 messages reach a connected client
 * live, are queued while it is away, and an unacknowledged one is sent again with DUP after a reconnect.
 */
describe('broker: persistent sessions (clean: false)', () => {
  const b = useColonyBroker()
  const client = b.client

  async function raw (clientId: string, clean: boolean): Promise<{ client: RawClient, sessionPresent: boolean }> {
    const { client: c, connack } = await RawClient.connect(b.port, { clientId, clean })
    b.opened.push({ close: () => c.destroy() })
    assert.equal(connack.returnCode, 0)
    return { client: c, sessionPresent: connack.sessionPresent }
  }

  for (const qos of [1, 2] as const) {
    it(`delivers QoS ${qos} live to a connected persistent session, which stays connected`, async () => {
      const sub = await client({ clientId: `live-q${qos}`, clean: false })
      let closes = 0
      sub.client.on('close', () => { closes++ })
      await sub.client.subscribeAsync(`persist/live/${qos}`, { qos })
      const pub = await client()
      for (let i = 0; i < 3; i++) await pub.client.publishAsync(`persist/live/${qos}`, `m${i}`, { qos })
      await sub.next(() => sub.on(`persist/live/${qos}`).length === 3, { what: `3 QoS ${qos} messages` })
      assert.deepEqual(sub.on(`persist/live/${qos}`).map((m) => m.payload.toString()), ['m0', 'm1', 'm2'])
      assert.equal(closes, 0, 'the broker did not disconnect the subscriber')
      assert.equal(sub.client.connected, true)
    })
  }

  it('queues QoS 1 and 2 messages while the client is away and delivers them, in order, on reconnect', async () => {
    const first = await client({ clientId: 'queued', clean: false })
    await first.client.subscribeAsync({ 'persist/queued/1': { qos: 1 }, 'persist/queued/2': { qos: 2 } })
    await first.close()
    const pub = await client()
    await pub.client.publishAsync('persist/queued/1', 'a', { qos: 1 })
    await pub.client.publishAsync('persist/queued/2', 'b', { qos: 2 })
    await pub.client.publishAsync('persist/queued/1', 'c', { qos: 1 })

    const back = await client({ clientId: 'queued', clean: false })
    await back.next(() => back.received.length === 3, { what: 'the 3 queued messages' })
    // mqtt.js hands a QoS 2 message over at PUBREL, so only the QoS 1 ones are compared in order.
    assert.deepEqual(back.on('persist/queued/1').map((m) => m.payload.toString()), ['a', 'c'])
    assert.deepEqual(back.on('persist/queued/2').map((m) => m.payload.toString()), ['b'])
  })

  it('sends an unacknowledged QoS 1 message again with DUP and the same packet id after a reconnect, until it is acknowledged', async () => {
    const { client: first } = await raw('redeliver-q1', false)
    await first.subscribe(1, { topic: 'persist/dup/1', qos: 1 })
    const pub = await client()
    await pub.client.publishAsync('persist/dup/1', 'once', { qos: 1 })
    const sent = await first.next((p) => p.cmd === 'publish') as IPublishPacket
    assert.equal(sent.qos, 1)
    assert.equal(sent.dup, false)
    await first.destroy() // no PUBACK

    const { client: second, sessionPresent } = await raw('redeliver-q1', false)
    assert.equal(sessionPresent, true)
    const again = await second.next((p) => p.cmd === 'publish') as IPublishPacket
    assert.equal(again.dup, true, 'DUP is set on redelivery [MQTT-3.3.1-1]')
    assert.equal(again.messageId, sent.messageId)
    assert.equal(again.payload.toString(), 'once')
    second.send({ cmd: 'puback', messageId: again.messageId as number })
    // The PUBACK is processed before the DISCONNECT that follows it on the same socket.
    await second.disconnect()

    const { client: third } = await raw('redeliver-q1', false)
    const marker = await client()
    await marker.client.publishAsync('persist/dup/1', 'after', { qos: 1 })
    const next = await third.next((p) => p.cmd === 'publish') as IPublishPacket
    assert.equal(next.payload.toString(), 'after', 'the acknowledged message was not sent a third time')
  })

  it('QoS 2: an unacknowledged PUBLISH comes again with DUP, then an unanswered PUBREL comes again, and the message is delivered once', async () => {
    const { client: first } = await raw('redeliver-q2', false)
    await first.subscribe(1, { topic: 'persist/dup/2', qos: 2 })
    const pub = await client()
    await pub.client.publishAsync('persist/dup/2', 'exactly-once', { qos: 2 })
    const sent = await first.next((p) => p.cmd === 'publish') as IPublishPacket
    assert.equal(sent.qos, 2)
    assert.equal(sent.dup, false)
    await first.destroy() // no PUBREC

    const { client: second } = await raw('redeliver-q2', false)
    const again = await second.next((p) => p.cmd === 'publish') as IPublishPacket
    assert.equal(again.dup, true)
    assert.equal(again.messageId, sent.messageId)
    second.send({ cmd: 'pubrec', messageId: again.messageId as number })
    await second.next((p) => p.cmd === 'pubrel' && p.messageId === again.messageId)
    await second.destroy() // no PUBCOMP

    const { client: third } = await raw('redeliver-q2', false)
    const pubrel = await third.next((p) => p.cmd === 'pubrel')
    assert.equal(pubrel.messageId, sent.messageId, 'the PUBREL is resent, not the PUBLISH [MQTT-4.4.0-1]')
    assert.equal(third.publishes().length, 0)
    third.send({ cmd: 'pubcomp', messageId: pubrel.messageId as number })
    await third.disconnect()

    const { client: fourth } = await raw('redeliver-q2', false)
    const marker = await client()
    await marker.client.publishAsync('persist/dup/2', 'next', { qos: 2 })
    const next = await fourth.next((p) => p.cmd === 'publish') as IPublishPacket
    assert.equal(next.payload.toString(), 'next')
    assert.equal(fourth.received.filter((p) => p.cmd === 'pubrel').length, 0, 'the completed handshake is not resumed again')
  })

  it('retained and plain QoS 1 publishes interleaved with in-process ones all reach a persistent subscriber, in the order sent on each topic (Aedes dedupe regression)', async () => {
    const sub = await client({ clientId: 'ordered', clean: false })
    await sub.client.subscribeAsync('order/#', { qos: 1 })
    const pubs = await Promise.all([client(), client()])
    const n = 150
    await Promise.all(pubs.map(async (p, k) => {
      const sends: Array<Promise<unknown>> = []
      for (let i = 0; i < n; i++) {
        sends.push(p.client.publishAsync(`order/${k}/${i % 5}`, JSON.stringify({ k, i }), { qos: 1, retain: i % 2 === 0 }))
        if (i % 10 === 0) b.colony.rt.broker.bus.publish('order/internal', { k, i })
      }
      await Promise.all(sends)
    }))
    const expected = 2 * n + 2 * Math.ceil(n / 10)
    await sub.next(() => sub.received.length >= expected, { timeoutMs: 10_000, what: `${expected} messages` })
    assert.equal(sub.received.length, expected)
    for (const k of [0, 1]) {
      assert.equal(sub.received.filter((m) => m.topic.startsWith(`order/${k}/`)).length, n)
      // Each topic is an ordered topic [MQTT-4.6.0-6]: a retained message waits for the journal's commit, and
      // the plain ones its publisher sent after it wait behind it.
      for (let t = 0; t < 5; t++) {
        const order = sub.on(`order/${k}/${t}`).map((m) => m.json.i as number)
        assert.deepEqual(order, [...order].sort((a, b) => a - b), `order/${k}/${t} keeps its publisher's order`)
      }
    }
    assert.ok(sub.received.every((m) => !m.retain), 'live deliveries carry retain 0 [MQTT-3.3.1-9]')
  })
})
