import { ColonyError } from '../errors.js'

const enum Phase { Type, Length, Body }

/**
 * Follows MQTT packet boundaries in an inbound byte stream and reports a packet whose fixed header announces
 * more than `maxBytes` as soon as that header is complete, before its body arrives. Aedes has no packet size
 * limit of its own: without this a client could make it buffer up to the protocol's 256 MB per packet.
 *
 * It only reads the chunks (a `data` listener on the connection sees exactly what Aedes reads), so the socket
 * is handed to Aedes unwrapped and keeps its batched writes.
 */
export class PacketSizeGuard {
  private phase = Phase.Type
  private length = 0
  private multiplier = 1
  private lengthBytes = 0
  private remaining = 0
  private failure: ColonyError | undefined

  constructor (private readonly maxBytes: number) {}

  /** Feeds the next chunk; returns the error (and keeps returning it) once the stream broke the limit. */
  check (chunk: Buffer): ColonyError | undefined {
    if (this.failure !== undefined) return this.failure
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
        if (this.lengthBytes >= 4) return (this.failure = new ColonyError('wire_invalid_payload', 'malformed MQTT remaining length'))
        continue
      }
      if (this.length > this.maxBytes) {
        return (this.failure = new ColonyError('wire_payload_too_large',
          `MQTT packet of ${this.length} bytes exceeds the limit of ${this.maxBytes} bytes`,
          { details: { size: this.length, limit: this.maxBytes } }))
      }
      this.remaining = this.length
      this.phase = this.length === 0 ? Phase.Type : Phase.Body
    }
    return undefined
  }
}
