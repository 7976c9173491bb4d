import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import { PacketSizeGuard } from '../../../src/broker/guard.js'
import { ColonyError } from '../../../src/errors.js'

interface Result {
  /** The chunks checked before the one that failed, concatenated. */
  out: Buffer
  error: Error | undefined
  /** Index of the chunk that failed. */
  failedAt: number
}

/** Feeds `chunks` to a fresh guard, as Aedes reads them, until one fails. */
async function feed (maxBytes: number, chunks: Buffer[]): Promise<Result> {
  const guard = new PacketSizeGuard(maxBytes)
  const out: Buffer[] = []
  for (let i = 0; i < chunks.length; i++) {
    const error = guard.check(chunks[i] as Buffer)
    if (error !== undefined) return { out: Buffer.concat(out), error, failedAt: i }
    out.push(chunks[i] as Buffer)
  }
  return { out: Buffer.concat(out), error: undefined, failedAt: -1 }
}

const bytes = (data: Buffer): Buffer[] => [...data].map((b) => Buffer.from([b]))

function publish (payloadBytes: number, topic = 't'): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.alloc(payloadBytes, 0x61), qos: 0, retain: false, dup: false })
}

function assertCode (error: Error | undefined, code: string): ColonyError {
  assert.ok(error instanceof ColonyError, `expected a ColonyError, got ${String(error)}`)
  assert.equal(error.code, code)
  return error
}

describe('PacketSizeGuard', () => {
  const session = Buffer.concat([
    mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'guard-test', clean: true, keepalive: 60 }),
    mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/#', qos: 1 }] }),
    publish(200), // remaining length 203: two length bytes
    mqttPacket.generate({ cmd: 'pingreq' }), // remaining length 0
    mqttPacket.generate({ cmd: 'publish', topic: 'q/1', payload: Buffer.from('hello'), qos: 1, messageId: 7, retain: true, dup: false }),
    publish(0),
    mqttPacket.generate({ cmd: 'disconnect' }),
  ])

  it('the test session holds packets with 0-, 1- and 2-byte remaining lengths', () => {
    assert.equal(session[0], 0x10) // CONNECT
    assert.ok(session.includes(Buffer.from([0xc0, 0x00]))) // PINGREQ
    assert.ok(session.length > 250)
  })

  it('passes a whole session in one chunk byte-identical', async () => {
    const { out, error } = await feed(1024, [session])
    assert.equal(error, undefined)
    assert.deepEqual(out, session)
  })

  it('passes the session byte-identical when split at every possible byte boundary', async () => {
    for (let k = 1; k < session.length; k++) {
      const { out, error } = await feed(1024, [session.subarray(0, k), session.subarray(k)])
      assert.equal(error, undefined, `split at ${k}: ${String(error)}`)
      assert.ok(out.equals(session), `split at ${k}: output differs`)
    }
  })

  it('passes the session byte-identical one byte at a time', async () => {
    const { out, error } = await feed(1024, bytes(session))
    assert.equal(error, undefined)
    assert.deepEqual(out, session)
  })

  it('passes a packet with a 3-byte remaining length, one byte at a time', async () => {
    const big = publish(20_000)
    assert.equal(big[1]! & 0x80, 0x80)
    assert.equal(big[2]! & 0x80, 0x80)
    assert.equal(big[3]! & 0x80, 0)
    const stream = Buffer.concat([big, mqttPacket.generate({ cmd: 'pingreq' }), publish(10)])
    const { out, error } = await feed(65_536, bytes(stream))
    assert.equal(error, undefined)
    assert.deepEqual(out, stream)
  })

  it('a packet of exactly the limit passes; one byte more fails', async () => {
    const atLimit = publish(1024 - 3) // remaining length = 2 (topic length) + 1 (topic) + payload
    const ok = await feed(1024, [atLimit])
    assert.equal(ok.error, undefined)
    assert.deepEqual(ok.out, atLimit)
    const over = await feed(1024, [publish(1024 - 2)])
    const err = assertCode(over.error, 'wire_payload_too_large')
    assert.deepEqual(err.details, { size: 1025, limit: 1024 })
  })

  it('fails an oversized packet from its header alone: at the byte that completes the header, before its body', async () => {
    const header = publish(5000).subarray(0, 3) // type byte + 2 remaining-length bytes
    const { error, failedAt } = await feed(1024, bytes(header))
    const err = assertCode(error, 'wire_payload_too_large')
    assert.equal(err.details?.size, 5003)
    assert.equal(failedAt, 2, 'the third byte completes the header')
  })

  it('keeps failing once it failed', () => {
    const guard = new PacketSizeGuard(1024)
    const first = guard.check(publish(5000))
    assert.ok(first)
    assert.equal(guard.check(publish(1)), first)
  })

  it('fails on the announced length of the largest 4-byte remaining length', async () => {
    const { error } = await feed(1 << 20, [Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])])
    const err = assertCode(error, 'wire_payload_too_large')
    assert.deepEqual(err.details, { size: 268_435_455, limit: 1 << 20 })
  })

  it('lets earlier packets through and fails at the chunk that completes the oversized header, wherever the stream is split', async () => {
    const small = Buffer.concat([publish(100), mqttPacket.generate({ cmd: 'pingreq' })])
    const stream = Buffer.concat([small, publish(3000), publish(1)])
    const headerEnd = small.length + 3 // type byte + 2 length bytes of the big publish
    for (let k = 1; k < stream.length; k++) {
      const { error, failedAt } = await feed(1024, [stream.subarray(0, k), stream.subarray(k)])
      assertCode(error, 'wire_payload_too_large')
      assert.equal(failedAt, k >= headerEnd ? 0 : 1, `split at ${k}`)
    }
  })

  it('fails a malformed 5-byte remaining length with wire_invalid_payload, one byte at a time or at once', async () => {
    const malformed = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00])
    for (const chunks of [[malformed], bytes(malformed)]) {
      const { error, failedAt } = await feed(256 * 1024 * 1024, chunks)
      assertCode(error, 'wire_invalid_payload')
      assert.equal(failedAt, chunks.length === 1 ? 0 : 4, 'at the fourth length byte that still says "more"')
    }
  })

  it('fails a malformed length after a good packet, keeping the good one', async () => {
    const good = publish(10)
    const { out, error } = await feed(1024, [good, Buffer.from([0xc0, 0x80, 0x80, 0x80, 0x80])])
    assertCode(error, 'wire_invalid_payload')
    assert.deepEqual(out, good)
  })

  it('accepts a non-minimal but legal length encoding (0x80 0x00 = 0)', async () => {
    const stream = Buffer.from([0xc0, 0x80, 0x00, 0xc0, 0x00])
    const { out, error } = await feed(1024, [stream])
    assert.equal(error, undefined)
    assert.deepEqual(out, stream)
  })

  describe('topic names and filters on the wire [MQTT-1.5.3]', () => {
    const rawPublish = (topic: Buffer): Buffer => {
      const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.from('payload')])
      return Buffer.concat([Buffer.from([0x30, body.length]), body])
    }
    const subscribe = (...filters: string[]): Buffer =>
      mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: filters.map((topic) => ({ topic, qos: 0 as const })) })
    const rawSubscribe = (filter: Buffer): Buffer => {
      const body = Buffer.concat([Buffer.from([0, 1, filter.length >> 8, filter.length & 0xff]), filter, Buffer.from([0])])
      return Buffer.concat([Buffer.from([0x82, body.length]), body])
    }
    const bad: Array<[string, Buffer, string]> = [
      ['U+0000 in a PUBLISH topic', rawPublish(Buffer.from('a/\u0000')), 'mqtt_invalid_topic'],
      ['a truncated UTF-8 sequence in a PUBLISH topic', rawPublish(Buffer.from([0x61, 0xe2, 0x82])), 'mqtt_invalid_topic'],
      ['an encoded surrogate in a PUBLISH topic', rawPublish(Buffer.from([0x61, 0xed, 0xbf, 0xbf])), 'mqtt_invalid_topic'],
      ['+ in a PUBLISH topic', publish(1, 'a/+/b'), 'mqtt_invalid_topic'],
      ['# in a PUBLISH topic', publish(1, 'a/#'), 'mqtt_invalid_topic'],
      ['U+0000 in the second filter of a SUBSCRIBE', Buffer.concat([subscribe('ok/#'), rawSubscribe(Buffer.from('x/\u0000'))]), 'mqtt_invalid_filter'],
      ['invalid UTF-8 in a SUBSCRIBE filter', rawSubscribe(Buffer.from([0x78, 0xc0, 0xaf])), 'mqtt_invalid_filter'],
    ]
    for (const [what, packet, code] of bad) {
      it(`fails ${what} with ${code}, at once and one byte at a time`, async () => {
        for (const chunks of [[packet], bytes(packet)]) {
          const { error } = await feed(1024, [publish(3, 'fine/topic'), ...chunks])
          assert.ok(error instanceof ColonyError, what)
          assert.equal(error.code, code)
        }
      })
    }

    it('passes valid multi-byte topics and filters with wildcards, whole or byte by byte', async () => {
      const session = Buffer.concat([publish(5, 'zählt/★/x'), subscribe('a/+/b', '#', 'ü/+'), publish(0, 'a'), publish(300, 'long/' + 'x'.repeat(200))])
      for (const chunks of [[session], bytes(session)]) {
        const { out, error } = await feed(1024, chunks)
        assert.equal(error, undefined)
        assert.deepEqual(Buffer.isBuffer(out) ? out : Buffer.alloc(0), session)
      }
    })
  })
})
