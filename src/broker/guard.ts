import { ColonyError } from '../errors.js'
import { topicFilterProblem, topicNameProblem } from './topic-bytes.js'

const enum Phase { Type, Length, Body }
const PUBLISH = 3
const SUBSCRIBE = 8

/**
 * Follows MQTT packet boundaries in an inbound byte stream and reports a packet whose fixed header announces
 * more than `maxBytes` as soon as that header is complete, before its body arrives. Aedes has no packet size
 * limit of its own: without this a client could make it buffer up to the protocol's 256 MB per packet.
 *
 * It also checks the raw bytes of every PUBLISH topic name and SUBSCRIBE topic filter (U+0000, malformed
 * UTF-8, wildcards in a name), which the parser would otherwise decode leniently or Aedes refuse silently.
 *
 * It only reads the chunks (a `data` listener on the connection sees exactly what Aedes reads, before Aedes
 * parses it), so the socket is handed to Aedes unwrapped and keeps its batched writes.
 */
export class PacketSizeGuard {
  private phase = Phase.Type
  private type = 0
  private length = 0
  /** Whether the current packet's topic or filters are still to be checked, and its body bytes so far. */
  private inspecting = false
  private held: Buffer[] = []
  private heldBytes = 0
  /** How many body bytes the check needs (known once the topic length has arrived). */
  private wanted: number | undefined
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
        if (this.inspecting) {
          const problem = this.inspect(chunk, i, i + take, take === this.remaining)
          if (problem !== undefined) return (this.failure = problem)
        }
        this.remaining -= take
        i += take
        if (this.remaining === 0) this.phase = Phase.Type
        continue
      }
      const byte = chunk[i++] as number
      if (this.phase === Phase.Type) {
        this.type = byte >> 4
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
      this.stopInspecting()
      this.inspecting = this.length > 0 && (this.type === PUBLISH || this.type === SUBSCRIBE)
    }
    return undefined
  }

  /** Gathers the body's first bytes (`chunk[from..to)`) until the topic (or every filter) is there, then checks it. */
  private inspect (chunk: Buffer, from: number, to: number, last: boolean): ColonyError | undefined {
    // The usual PUBLISH: its whole topic is in this chunk. Checked where it lies, with no views or copies: this runs
    // for every message a client sends.
    if (this.type === PUBLISH && this.held.length === 0 && to - from >= 2) {
      const topicEnd = from + 2 + chunk.readUInt16BE(from)
      if (topicEnd <= to) {
        this.stopInspecting()
        return checkPublish(chunk, from + 2, topicEnd)
      }
    }
    const piece = chunk.subarray(from, to)
    this.held.push(piece)
    this.heldBytes += piece.length
    if (this.wanted === undefined && this.heldBytes >= 2) {
      const start = this.held.length === 1 ? piece : Buffer.concat(this.held)
      this.wanted = this.type === PUBLISH ? 2 + start.readUInt16BE(0) : this.length
    }
    if (this.wanted !== undefined && this.heldBytes >= this.wanted) {
      const body = this.held.length === 1 ? piece : Buffer.concat(this.held)
      const wanted = this.wanted
      this.stopInspecting()
      return this.type === PUBLISH ? checkPublish(body, 2, wanted) : checkSubscribe(body)
    }
    // A body shorter than its own topic length is malformed; the parser refuses it.
    if (last) this.stopInspecting()
    return undefined
  }

  private stopInspecting (): void {
    this.inspecting = false
    // Runs twice per packet and almost always finds nothing held: setting an array's length is a runtime call.
    if (this.held.length !== 0) this.held.length = 0
    this.heldBytes = 0
    this.wanted = undefined
  }
}

function checkPublish (bytes: Buffer, start: number, end: number): ColonyError | undefined {
  const problem = topicNameProblem(bytes, start, end)
  return problem === undefined ? undefined : new ColonyError('mqtt_invalid_topic', problem, { details: { topic: bytes.toString('utf8', start, end) } })
}

/** SUBSCRIBE body: packet id, then (length, filter, requested QoS) per subscription [MQTT-3.8.3]. */
function checkSubscribe (body: Buffer): ColonyError | undefined {
  let at = 2
  while (at + 2 <= body.length) {
    const end = at + 2 + body.readUInt16BE(at)
    if (end > body.length) return undefined
    const filter = body.subarray(at + 2, end)
    const problem = topicFilterProblem(filter)
    if (problem !== undefined) return new ColonyError('mqtt_invalid_filter', problem, { details: { topic: filter.toString('utf8') } })
    at = end + 1
  }
  return undefined
}
