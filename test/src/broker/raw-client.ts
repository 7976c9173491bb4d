import { connect as tcpConnect, type Socket } from 'node:net'
import mqttPacket, { type IConnackPacket, type IConnectPacket, type Packet } from 'mqtt-packet'
import { remainingLength } from '../../helpers/mqtt-bytes.js'

/**
 * A bare MQTT client on a TCP socket for tests that need what mqtt.js hides or does for you: withholding
 * PUBACK/PUBREC, reading the DUP flag and packet ids, sending byte sequences no library would encode, and
 * protocol versions and client ids mqtt.js would refuse or replace.
 */
export class RawClient {
  readonly received: Packet[] = []
  /** Resolves when the broker (or the test) closed the connection. */
  readonly closed: Promise<void>
  private waiters: Array<{ test: (p: Packet) => boolean, resolve: (p: Packet) => void }> = []

  private constructor (readonly socket: Socket) {
    const parser = mqttPacket.parser()
    parser.on('packet', (packet: Packet) => {
      this.received.push(packet)
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(packet)) return true
        w.resolve(packet)
        return false
      })
    })
    socket.on('data', (chunk: Buffer) => parser.parse(chunk))
    socket.on('error', () => socket.destroy())
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
  }

  static async open (port: number): Promise<RawClient> {
    const socket = tcpConnect({ host: '127.0.0.1', port })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new RawClient(socket)
  }

  /** Opens a connection and sends CONNECT (MQTT 3.1.1 unless told otherwise); resolves with the CONNACK. */
  static async connect (port: number, options: Partial<IConnectPacket> & { clientId: string }): Promise<{ client: RawClient, connack: IConnackPacket }> {
    const client = await RawClient.open(port)
    const connack = await client.connect(options)
    return { client, connack }
  }

  async connect (options: Partial<IConnectPacket> & { clientId: string }): Promise<IConnackPacket> {
    const connack = this.next((p) => p.cmd === 'connack')
    this.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive: 0, ...options })
    return await connack as IConnackPacket
  }

  send (packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet))
  }

  sendRaw (bytes: Buffer): void {
    this.socket.write(bytes)
  }

  async subscribe (messageId: number, ...subscriptions: Array<{ topic: string, qos: 0 | 1 | 2 }>): Promise<number[]> {
    const suback = this.next((p) => p.cmd === 'suback' && p.messageId === messageId)
    this.send({ cmd: 'subscribe', messageId, subscriptions })
    return ((await suback) as { granted: number[] }).granted
  }

  /** Resolves with the first packet received (already or later) that passes `test`. */
  next (test: (p: Packet) => boolean, timeoutMs = 5000, what = 'a packet'): Promise<Packet> {
    const found = this.received.find(test)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done)
        reject(new Error(`timed out waiting for ${what}`))
      }, timeoutMs)
      const done = (p: Packet): void => {
        clearTimeout(timer)
        resolve(p)
      }
      this.waiters.push({ test, resolve: done })
    })
  }

  publishes (topic?: string): Array<Packet & { cmd: 'publish' }> {
    return this.received.filter((p): p is Packet & { cmd: 'publish' } => p.cmd === 'publish' && (topic === undefined || p.topic === topic))
  }

  /** Resolves once the connection is closed, or rejects after `timeoutMs`. */
  async closedWithin (timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.closed,
      new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`the connection was still open after ${timeoutMs} ms`)), timeoutMs) }),
    ]).finally(() => clearTimeout(timer))
  }

  /** A clean DISCONNECT, then waits for the close. */
  async disconnect (): Promise<void> {
    if (this.socket.destroyed) return
    this.socket.end(mqttPacket.generate({ cmd: 'disconnect' }))
    await this.closed
  }

  /** Drops the connection without DISCONNECT (an abnormal disconnect for the broker). */
  async destroy (): Promise<void> {
    this.socket.destroy()
    await this.closed
  }
}

/** A PUBLISH at QoS 0 whose topic is the given bytes, as is (for topics no encoder would produce). */
export function rawPublish (topic: Buffer, payload = Buffer.from('x')): Buffer {
  const body = Buffer.concat([u16(topic.length), topic, payload])
  return Buffer.concat([Buffer.from([0x30]), remainingLength(body.length), body])
}

/** A SUBSCRIBE (packet id 1, QoS 0) whose filter is the given bytes, as is. */
export function rawSubscribe (filter: Buffer): Buffer {
  const body = Buffer.concat([u16(1), u16(filter.length), filter, Buffer.from([0])])
  return Buffer.concat([Buffer.from([0x82]), remainingLength(body.length), body])
}

function u16 (n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}

