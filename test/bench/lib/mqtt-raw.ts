import { connect, type Socket } from 'node:net'
import { withTimeout } from './proc.js'
import { remainingLength } from '../../helpers/mqtt-bytes.js'

/**
 * Hand-encoded MQTT 3.1.1 for the fan-in benchmark. The publishers write pre-built PUBLISH packets and the
 * subscriber only frames and counts what arrives, so on a 2-core machine nearly all the CPU goes to the
 * broker under test instead of to mqtt.js encoding and parsing on the client side.
 */

export const PUBLISH = 3
export const PUBACK = 4
const CONNACK = 2
const SUBACK = 9

function str (s: string): Buffer {
  const b = Buffer.from(s, 'utf8')
  const len = Buffer.alloc(2)
  len.writeUInt16BE(b.length)
  return Buffer.concat([len, b])
}

function packet (firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body])
}

/** CONNECT, keep-alive 0 (off: a benchmark connection is never idle long enough to need it). */
export function connectPacket (clientId: string, clean = true): Buffer {
  return packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, clean ? 0x02 : 0x00, 0, 0]), str(clientId)]))
}

/** A QoS 0 PUBLISH, or a QoS 1 one with packet id 1 (`setPacketId` rewrites it in place). */
export function publishPacket (topic: string, payload: Buffer, qos: 0 | 1 = 0): Buffer {
  if (qos === 0) return packet(0x30, Buffer.concat([str(topic), payload]))
  return packet(0x32, Buffer.concat([str(topic), Buffer.from([0, 1]), payload]))
}

/** Where the packet id of a QoS 1 PUBLISH built by `publishPacket` starts. */
export function packetIdOffset (packetBytes: Buffer): number {
  let i = 1
  while (((packetBytes[i++] as number) & 0x80) !== 0);
  return i + 2 + packetBytes.readUInt16BE(i)
}

export function subscribePacket (packetId: number, filter: string, qos: 0 | 1 = 0): Buffer {
  const id = Buffer.alloc(2)
  id.writeUInt16BE(packetId)
  return packet(0x82, Buffer.concat([id, str(filter), Buffer.from([qos])]))
}

function pubackPacket (packetId: number, into: Buffer, at: number): void {
  into[at] = 0x40
  into[at + 1] = 2
  into.writeUInt16BE(packetId, at + 2)
}

export const DISCONNECT = Buffer.from([0xe0, 0x00])

/** Frames an inbound MQTT byte stream and counts packets by type, without copying or parsing bodies. */
export class PacketCounter {
  readonly counts = new Array<number>(16).fill(0)
  private header = true
  private lenValue = 0
  private lenMul = 1
  private inLength = false
  private type = 0
  private remaining = 0
  /** Called for every packet that is not a PUBLISH (handshakes are rare; publishes are only counted). */
  onControl: ((type: number) => void) | undefined
  /** Set to answer each QoS 1 PUBLISH with a PUBACK (the acks of one chunk are written together). */
  ackTo: Socket | undefined
  private qos = 0
  /** The first bytes of a QoS 1 PUBLISH body, up to its packet id. */
  private head: number[] = []
  private acks: number[] = []

  push (chunk: Buffer): void {
    let i = 0
    while (i < chunk.length) {
      if (!this.header) {
        const take = Math.min(this.remaining, chunk.length - i)
        if (this.qos > 0) this.readPacketId(chunk, i, take)
        this.remaining -= take
        i += take
        if (this.remaining === 0) this.header = true
        continue
      }
      const byte = chunk[i++] as number
      if (!this.inLength) {
        this.type = byte >> 4
        this.qos = this.type === PUBLISH && this.ackTo !== undefined ? (byte >> 1) & 3 : 0
        this.head.length = 0
        this.inLength = true
        this.lenValue = 0
        this.lenMul = 1
        continue
      }
      this.lenValue += (byte & 0x7f) * this.lenMul
      this.lenMul *= 128
      if ((byte & 0x80) !== 0) continue
      this.inLength = false
      this.counts[this.type] = (this.counts[this.type] as number) + 1
      if (this.type !== PUBLISH) this.onControl?.(this.type)
      this.remaining = this.lenValue
      this.header = this.remaining === 0
    }
    if (this.acks.length > 0) {
      const out = Buffer.allocUnsafe(this.acks.length * 4)
      for (let k = 0; k < this.acks.length; k++) pubackPacket(this.acks[k] as number, out, k * 4)
      this.acks.length = 0
      this.ackTo?.write(out)
    }
  }

  private readPacketId (chunk: Buffer, from: number, take: number): void {
    for (let k = from; k < from + take && this.qos > 0; k++) {
      this.head.push(chunk[k] as number)
      const h = this.head
      if (h.length >= 4 && h.length === 2 + ((h[0] as number) << 8 | (h[1] as number)) + 2) {
        this.acks.push((h[h.length - 2] as number) << 8 | (h[h.length - 1] as number))
        this.qos = 0
      }
    }
  }

  /** Resolves once `n` packets of `type` have arrived in total. */
  waitFor (type: number, n = 1, timeoutMs = 10_000): Promise<void> {
    if ((this.counts[type] as number) >= n) return Promise.resolve()
    return withTimeout(new Promise<void>((resolve) => {
      const previous = this.onControl
      this.onControl = (t) => {
        previous?.(t)
        if ((this.counts[type] as number) >= n) {
          this.onControl = previous
          resolve()
        }
      }
    }), timeoutMs, `MQTT packet type ${type}`)
  }
}

export interface RawClient { socket: Socket, counter: PacketCounter, close(): Promise<void> }

/** Connects and completes the MQTT handshake. */
export async function rawConnect (port: number, clientId: string, options: { clean?: boolean, ackQoS1?: boolean } = {}): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true })
  const counter = new PacketCounter()
  if (options.ackQoS1 === true) counter.ackTo = socket
  socket.on('data', (chunk: Buffer) => counter.push(chunk))
  await withTimeout(new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  }), 10_000, `TCP connect to ${port}`)
  // A broker that drops the connection at the end of a run is not an error worth crashing for.
  socket.on('error', () => socket.destroy())
  socket.write(connectPacket(clientId, options.clean ?? true))
  await counter.waitFor(CONNACK)
  const close = async (): Promise<void> => {
    if (socket.destroyed) return
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve())
      socket.end(DISCONNECT)
      // Whatever the broker still sends is not read any more; do not wait for it to drain.
      setTimeout(() => socket.destroy(), 1000).unref()
    })
  }
  return { socket, counter, close }
}

export async function rawSubscribe (client: RawClient, filter: string, qos: 0 | 1 = 0): Promise<void> {
  client.socket.write(subscribePacket(1, filter, qos))
  await client.counter.waitFor(SUBACK)
}
