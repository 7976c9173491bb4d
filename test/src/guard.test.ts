import assert from 'node:assert/strict'
import { once } from 'node:events'
import mqttPacket from 'mqtt-packet'
import { PacketSizeGuard } from '../../src/broker/guard.js'
import { ColonyError } from '../../src/errors.js'

interface Result { out: Buffer, error: Error | undefined }

/** Writes `chunks` into a fresh guard and collects what comes out, until it ends or fails. */
function feed (maxBytes: number, chunks: Buffer[]): Promise<Result> {
  const guard = new PacketSizeGuard(maxBytes)
  const out: Buffer[] = []
  return new Promise((resolve) => {
    guard.on('data', (chunk: Buffer) => out.push(chunk))
    guard.on('error', (error) => resolve({ out: Buffer.concat(out), error }))
    guard.on('end', () => resolve({ out: Buffer.concat(out), error: undefined }))
    for (const chunk of chunks) guard.write(chunk)
    guard.end()
  })
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
    assert.equal(over.out.length, 0)
  })

  it('fails an oversized packet from its header alone, before any of its body arrives, passing none of it', async () => {
    const guard = new PacketSizeGuard(1024)
    const out: Buffer[] = []
    guard.on('data', (chunk: Buffer) => out.push(chunk))
    const failed = once(guard, 'error')
    const header = publish(5000).subarray(0, 3) // type byte + 2 remaining-length bytes
    for (const b of bytes(header)) guard.write(b)
    const [error] = await failed as [Error]
    const err = assertCode(error, 'wire_payload_too_large')
    assert.equal(err.details?.size, 5003)
    assert.ok(guard.destroyed)
    assert.deepEqual(out, [], 'no byte of the refused packet reached the MQTT parser')
  })

  it('holds back a partial fixed header until it is complete', async () => {
    const guard = new PacketSizeGuard(1024)
    const out: Buffer[] = []
    guard.on('data', (chunk: Buffer) => out.push(chunk))
    const packet = publish(200) // 0x30, two length bytes, body
    const write = (b: Buffer): Promise<void> => new Promise((resolve, reject) => {
      guard.write(b, (err) => { if (err) reject(err); else resolve() })
    })
    await write(packet.subarray(0, 2)) // type byte and the first length byte (continuation bit set)
    assert.equal(Buffer.concat(out).length + guard.readableLength, 0)
    await write(packet.subarray(2, 10))
    const ended = once(guard, 'end')
    guard.end(packet.subarray(10))
    await ended
    assert.deepEqual(Buffer.concat(out), packet)
  })

  it('fails on the announced length of the largest 4-byte remaining length', async () => {
    const { error } = await feed(1 << 20, [Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])])
    const err = assertCode(error, 'wire_payload_too_large')
    assert.deepEqual(err.details, { size: 268_435_455, limit: 1 << 20 })
  })

  it('lets earlier packets through and fails at the oversized one, wherever the stream is split', async () => {
    const first = publish(100)
    const small = Buffer.concat([first, mqttPacket.generate({ cmd: 'pingreq' })])
    const boundaries = [0, first.length, small.length]
    const stream = Buffer.concat([small, publish(3000), publish(1)])
    for (let k = 1; k < small.length + 6; k++) {
      const { out, error } = await feed(1024, [stream.subarray(0, k), stream.subarray(k)])
      assertCode(error, 'wire_payload_too_large')
      // Output is a prefix of the stream with nothing of the oversized packet, not even its header.
      assert.ok(out.length <= small.length, `split at ${k}: ${out.length} bytes passed`)
      assert.ok(out.equals(stream.subarray(0, out.length)), `split at ${k}: output is not a prefix`)
      if (k <= small.length) {
        // The first chunk held only good bytes: all of them pass but a trailing, incomplete fixed header.
        const boundary = Math.max(...boundaries.filter((b) => b <= k))
        assert.ok(out.length >= boundary && out.length <= k, `split at ${k}: ${out.length} bytes passed`)
      }
    }
  })

  it('fails a malformed 5-byte remaining length with wire_invalid_payload, one byte at a time or at once', async () => {
    const malformed = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00])
    for (const chunks of [[malformed], bytes(malformed)]) {
      const { out, error } = await feed(256 * 1024 * 1024, chunks)
      assertCode(error, 'wire_invalid_payload')
      assert.equal(out.length, 0)
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
})
