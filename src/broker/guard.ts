import { Transform, type TransformCallback } from 'node:stream'
import { ColonyError } from '../errors.js'

const enum Phase { Type, Length, Body }

/**
 * Watches an inbound MQTT byte stream and fails it as soon as a packet header announces more than
 * `maxBytes`, before the body is buffered. Aedes has no packet size limit of its own: without this a client
 * could make it buffer up to the protocol's 256 MB per packet.
 */
export class PacketSizeGuard extends Transform {
  private phase = Phase.Type
  private length = 0
  private multiplier = 1
  private lengthBytes = 0
  private remaining = 0

  constructor (private readonly maxBytes: number) {
    super()
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    let i = 0
    while (i < chunk.length) {
      if (this.phase === Phase.Body) {
        const take = Math.min(this.remaining, chunk.length - i)
        this.remaining -= take
        i += take
        if (this.remaining === 0) this.phase = Phase.Type
        continue
      }
      const byte = chunk[i++] as number
      if (this.phase === Phase.Type) {
        this.phase = Phase.Length
        this.length = 0
        this.multiplier = 1
        this.lengthBytes = 0
        continue
      }
      // Remaining length: up to four 7-bit groups, least significant first [MQTT-2.2.3].
      this.length += (byte & 0x7f) * this.multiplier
      this.multiplier *= 128
      this.lengthBytes++
      if ((byte & 0x80) !== 0) {
        if (this.lengthBytes >= 4) {
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
      this.remaining = this.length
      this.phase = this.length === 0 ? Phase.Type : Phase.Body
    }
    callback(null, chunk)
  }
}
