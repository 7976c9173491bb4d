import { Transform, type TransformCallback } from 'node:stream'
import { ColonyError } from '../errors.js'

const enum Phase { Type, Length, Body }

/**
 * Watches an inbound MQTT byte stream and fails it as soon as a packet header announces more than
 * `maxBytes`, before the body is buffered. Aedes has no packet size limit of its own: without this a client
 * could make it buffer up to the protocol's 256 MB per packet. A fixed header is held back until it is
 * complete and checked, so nothing of a refused packet ever reaches the MQTT parser.
 */
export class PacketSizeGuard extends Transform {
  private phase = Phase.Type
  private length = 0
  private multiplier = 1
  private readonly header: number[] = []
  private remaining = 0

  constructor (private readonly maxBytes: number) {
    super()
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    const out: Buffer[] = []
    let i = 0
    while (i < chunk.length) {
      if (this.phase === Phase.Body) {
        const take = Math.min(this.remaining, chunk.length - i)
        out.push(chunk.subarray(i, i + take))
        this.remaining -= take
        i += take
        if (this.remaining === 0) this.phase = Phase.Type
        continue
      }
      const byte = chunk[i++] as number
      this.header.push(byte)
      if (this.phase === Phase.Type) {
        this.phase = Phase.Length
        this.length = 0
        this.multiplier = 1
        continue
      }
      // Remaining length: up to four 7-bit groups, least significant first [MQTT-2.2.3].
      this.length += (byte & 0x7f) * this.multiplier
      this.multiplier *= 128
      if ((byte & 0x80) !== 0) {
        if (this.header.length >= 5) {
          callback(new ColonyError('wire_invalid_payload', 'malformed MQTT remaining length'))
          return
        }
        continue
      }
      if (this.length > this.maxBytes) {
        callback(new ColonyError('wire_payload_too_large',
          `MQTT packet of ${this.length} bytes exceeds the limit of ${this.maxBytes} bytes`,
          { details: { size: this.length, limit: this.maxBytes } }))
        return
      }
      out.push(Buffer.from(this.header))
      this.header.length = 0
      this.remaining = this.length
      this.phase = this.length === 0 ? Phase.Type : Phase.Body
    }
    if (out.length === 1) callback(null, out[0])
    else if (out.length > 1) callback(null, Buffer.concat(out))
    else callback()
  }
}
