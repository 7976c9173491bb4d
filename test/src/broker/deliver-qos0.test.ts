import assert from 'node:assert/strict'
import { connect as tcpConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { Aedes } from 'aedes'
import mqttPacket from 'mqtt-packet'
import { installLeanQos0Delivery } from '../../../src/broker/deliver-qos0.js'

type LeanClient = Parameters<typeof installLeanQos0Delivery>[0]

/** One Aedes with two listeners: one installs the lean QoS 0 delivery on its clients, the other leaves Aedes' own. */
async function brokerWithTwoDoors (): Promise<{ aedes: Aedes, lean: number, plain: number, close: () => Promise<void> }> {
  const aedes = await Aedes.createBroker({ drainTimeout: 60_000 })
  const listen = async (server: Server): Promise<number> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    return (server.address() as AddressInfo).port
  }
  const leanServer = createServer((socket) => { installLeanQos0Delivery(aedes.handle(socket) as unknown as LeanClient) })
  const plainServer = createServer((socket) => { aedes.handle(socket) })
  const lean = await listen(leanServer)
  const plain = await listen(plainServer)
  return {
    aedes,
    lean,
    plain,
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await new Promise<void>((resolve) => leanServer.close(() => resolve()))
      await new Promise<void>((resolve) => plainServer.close(() => resolve()))
    },
  }
}

/** A raw subscriber: connects, subscribes to `#`, and keeps every byte that follows the SUBACK. */
async function subscriber (port: number, clientId: string): Promise<{ socket: Socket, bytes: () => Buffer, wait: (n: number) => Promise<void> }> {
  const socket = tcpConnect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const chunks: Buffer[] = []
  let length = 0
  let waiter: { n: number, resolve: () => void } | undefined
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
    length += chunk.length
    if (waiter !== undefined && length >= waiter.n) waiter.resolve()
  })
  const wait = async (n: number): Promise<void> => {
    if (length >= n) return
    await new Promise<void>((resolve) => { waiter = { n, resolve } })
  }
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, clientId }))
  await wait(4) // CONNACK
  socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }] }))
  await wait(4 + 5) // SUBACK
  const start = length
  return { socket, bytes: () => Buffer.concat(chunks).subarray(start), wait: async (n) => await wait(start + n) }
}

const publish = async (aedes: Aedes, topic: string, payload: Buffer, retain = false): Promise<void> => {
  await new Promise<void>((resolve, reject) => aedes.publish({ cmd: 'publish', topic, payload, qos: 0, retain, dup: false }, (err) => { if (err) reject(err); else resolve() }))
}

describe('lean QoS 0 delivery', () => {
  it('writes the very bytes Aedes and mqtt-packet write, for every length of the remaining-length field and for large payloads', async () => {
    const b = await brokerWithTwoDoors()
    const lean = await subscriber(b.lean, 'lean')
    const plain = await subscriber(b.plain, 'plain')
    try {
      // Remaining length in 1, 2, 3 and 4 bytes; a multi-byte topic; an empty payload.
      const sizes = [0, 10, 120, 200, 4090, 5000, 20_000, 2_100_000]
      for (const size of sizes) await publish(b.aedes, `sizes/ümlaut/${size}`, Buffer.alloc(size, size % 251))
      await publish(b.aedes, 'sizes/empty', Buffer.alloc(0))
      const total = sizes.reduce((sum, size) => sum + mqttPacket.generate({ cmd: 'publish', topic: `sizes/ümlaut/${size}`, payload: Buffer.alloc(size), qos: 0, retain: false, dup: false }).length, 0) +
        mqttPacket.generate({ cmd: 'publish', topic: 'sizes/empty', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false }).length
      await Promise.all([lean.wait(total), plain.wait(total)])
      assert.equal(lean.bytes().length, total)
      assert.ok(lean.bytes().equals(plain.bytes()), 'the lean delivery wrote other bytes than Aedes')
    } finally {
      lean.socket.destroy()
      plain.socket.destroy()
      await b.close()
    }
  })

  it('delivers a retained message on subscribe with the retain flag, as Aedes does', async () => {
    const b = await brokerWithTwoDoors()
    await publish(b.aedes, 'kept/topic', Buffer.from('kept'), true)
    const lean = await subscriber(b.lean, 'lean-retained')
    const plain = await subscriber(b.plain, 'plain-retained')
    try {
      const size = mqttPacket.generate({ cmd: 'publish', topic: 'kept/topic', payload: Buffer.from('kept'), qos: 0, retain: true, dup: false }).length
      await Promise.all([lean.wait(size), plain.wait(size)])
      assert.equal((lean.bytes()[0] as number) & 0x01, 1, 'retain flag')
      assert.ok(lean.bytes().equals(plain.bytes()))
    } finally {
      lean.socket.destroy()
      plain.socket.destroy()
      await b.close()
    }
  })

  it('holds a delivery done while the subscriber does not read, and finishes it once the subscriber reads again', async () => {
    const b = await brokerWithTwoDoors()
    const slow = await subscriber(b.lean, 'slow')
    try {
      slow.socket.pause()
      const payload = Buffer.alloc(64 * 1024, 7)
      const count = 400 // 25 MB: far more than loopback socket buffers hold
      let done = 0
      const all = Promise.all(Array.from({ length: count }, async () => { await publish(b.aedes, 'slow/t', payload); done++ }))
      // Let every delivery that can finish finish: turns of the loop until the count stops moving.
      let last = -1
      while (done !== last) {
        last = done
        await new Promise((resolve) => setImmediate(resolve))
        await new Promise((resolve) => setImmediate(resolve))
      }
      assert.ok(done < count, `${done} of ${count} deliveries were done with the subscriber not reading`)
      slow.socket.resume()
      await all
      assert.equal(done, count)
    } finally {
      slow.socket.destroy()
      await b.close()
    }
  })

  it('writes what authorizeForward answers: a payload filtered for the client, or nothing', async () => {
    const b = await brokerWithTwoDoors()
    b.aedes.authorizeForward = (client, packet) => {
      if (packet.topic === 'hidden/t') return null
      return client?.id === 'lean-filtered' ? { ...packet, payload: Buffer.from('only yours') } : packet
    }
    const lean = await subscriber(b.lean, 'lean-filtered')
    try {
      await publish(b.aedes, 'hidden/t', Buffer.from('secret'))
      await publish(b.aedes, 'shared/t', Buffer.from('everything'))
      const expected = mqttPacket.generate({ cmd: 'publish', topic: 'shared/t', payload: Buffer.from('only yours'), qos: 0, retain: false, dup: false })
      await lean.wait(expected.length)
      assert.ok(lean.bytes().equals(expected), `got ${lean.bytes().toString('latin1')}`)
    } finally {
      lean.socket.destroy()
      await b.close()
    }
  })

  it('forwards a message from another broker once per broker counter, as Aedes dedupes', async () => {
    const b = await brokerWithTwoDoors()
    const lean = await subscriber(b.lean, 'lean-dedupe')
    try {
      const client = [...Object.values((b.aedes as unknown as { clients: Record<string, LeanClient> }).clients)].find((c) => c.id === 'lean-dedupe') as LeanClient
      const packet = { cmd: 'publish', topic: 'dup/t', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, brokerId: 'other', brokerCounter: 5 }
      const delivered = async (): Promise<void> => { await new Promise<void>((resolve) => client.deliver0({ ...packet }, resolve)) }
      await delivered()
      await delivered() // the same broker counter again: a duplicate, not written
      await delivered()
      await publish(b.aedes, 'dup/after', Buffer.from('y'))
      const expected = Buffer.concat([
        mqttPacket.generate({ cmd: 'publish', topic: 'dup/t', payload: Buffer.from('x'), qos: 0, retain: false, dup: false }),
        mqttPacket.generate({ cmd: 'publish', topic: 'dup/after', payload: Buffer.from('y'), qos: 0, retain: false, dup: false }),
      ])
      await lean.wait(expected.length)
      assert.ok(lean.bytes().equals(expected), 'a duplicate was written')
    } finally {
      lean.socket.destroy()
      await b.close()
    }
  })
})
