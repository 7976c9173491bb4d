/**
 * A leaner QoS 0 delivery for an Aedes client, installed in place of its own `deliver0` (an instance property
 * the subscribe handler reads when a subscription is made). Aedes' version schedules a `setImmediate` to write each
 * delivery and another to call it done, wraps the message in a second packet object, and mqtt-packet then writes
 * the PUBLISH in four or five pieces through the stream. At 10 000 heartbeats a second to one subscriber those
 * per-delivery steps were most of the broker's cost. This one encodes the PUBLISH into one buffer and writes it at
 * once (the connection holds a turn's writes, see coalesce.ts), and releases the done callbacks of a whole turn from a
 * single `setImmediate`: done stays asynchronous, as mqemitter and Aedes' read loop expect, without one task each.
 *
 * The forwarding rules are Aedes' own, in its order: no-local, the duplicate check by broker counter, then
 * `authorizeForward`. Backpressure is too: a write the socket refuses waits for 'drain' through the client's
 * `waitForDrain` (with its drain timeout) before the delivery is done.
 */
import mqttPacket from 'mqtt-packet'

/** The parts of an Aedes client this uses; its typings leave them out. */
interface AedesClient {
  id: string | null
  connecting: boolean
  connected: boolean
  errored: boolean
  conn: { write(chunk: Buffer): boolean }
  duplicates: Record<string, number>
  broker: { authorizeForward(client: AedesClient, packet: Publish): Publish | null | undefined }
  deliver0: (packet: Publish, done: () => void) => void
  waitForDrain(done: (err?: Error) => void): void
  _onError(err?: Error | null): void
}

interface Publish {
  topic: unknown
  payload?: unknown
  retain?: boolean
  dup?: boolean
  clientId?: string
  nl?: boolean
  brokerId?: string
  brokerCounter?: number
}

const EMPTY = Buffer.alloc(0)
const CONNECTION_CLOSED = 'connection closed'

/** Done callbacks owed this turn, called together once the turn's I/O is through. */
let owed: Array<() => void> = []
function releaseOwed (): void {
  const batch = owed
  owed = []
  for (const done of batch) done()
}
function owe (done: () => void): void {
  if (owed.length === 0) setImmediate(releaseOwed)
  owed.push(done)
}

/** Aedes' `dedupe`: a message already forwarded from that broker (by its counter) is not forwarded again. */
function firstFromBroker (client: AedesClient, packet: Publish): boolean {
  const id = packet.brokerId
  if (id === undefined || id === '') return true
  const counter = packet.brokerCounter ?? 0
  if ((client.duplicates[id] ?? 0) >= counter) return false
  client.duplicates[id] = counter
  return true
}

function remainingLengthBytes (n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4
}

/**
 * A QoS 0 PUBLISH as mqtt-packet writes it for MQTT 3.1/3.1.1 (the versions Aedes speaks): the same header flags
 * (retain, and dup as given), the topic, and the payload, in one buffer. (Writing a large payload on its own would
 * save no copy: the connection joins a turn's writes into one buffer anyway.)
 */
function encodePublish (topic: string, payload: Buffer, retain: boolean, dup: boolean): Buffer {
  const topicBytes = Buffer.byteLength(topic)
  const remaining = 2 + topicBytes + payload.length
  const lengthBytes = remainingLengthBytes(remaining)
  const headerSize = 1 + lengthBytes + 2 + topicBytes
  const out = Buffer.allocUnsafe(headerSize + payload.length)
  out[0] = 0x30 | (dup ? 0x08 : 0) | (retain ? 0x01 : 0)
  let at = 1
  let rest = remaining
  do {
    let byte = rest % 0x80
    rest = Math.floor(rest / 0x80)
    if (rest > 0) byte |= 0x80
    out[at++] = byte
  } while (rest > 0)
  out.writeUInt16BE(topicBytes, at)
  at += 2
  at += out.write(topic, at, 'utf8')
  payload.copy(out, at)
  return out
}

/** Aedes' own write of a QoS 0 packet (mqtt-packet's encoder), for the shapes the lean encoder leaves to it. */
function writeAsAedes (client: AedesClient, packet: Publish, done: () => void): void {
  let accepted: boolean
  try {
    accepted = mqttPacket.writeToStream({ ...packet, cmd: 'publish', qos: 0 } as unknown as mqttPacket.Packet, client.conn as unknown as NodeJS.WritableStream)
  } catch {
    owe(() => { client._onError(new Error('packet received not valid')); done() })
    return
  }
  if (!accepted && !client.errored) {
    client.waitForDrain((err) => { client._onError(err); done() })
    return
  }
  owe(done)
}

/** Installs the lean QoS 0 delivery on a client Aedes has just made (before it can subscribe). */
export function installLeanQos0Delivery (client: AedesClient): void {
  const closed = (): void => client._onError(new Error(CONNECTION_CLOSED))
  client.deliver0 = function leanDeliverQos0 (packet, done) {
    if ((packet.clientId === client.id && packet.nl === true) || !firstFromBroker(client, packet)) {
      owe(done)
      return
    }
    // What is forwarded is what the hook answers: it may be another packet (a payload filtered for this client).
    const forward = client.broker.authorizeForward(client, packet)
    if (forward === null || forward === undefined) {
      owe(done)
      return
    }
    if (!client.connecting && !client.connected) {
      owe(() => { closed(); done() })
      return
    }
    const topic = forward.topic
    const raw = forward.payload ?? EMPTY
    if (typeof topic !== 'string' || !(Buffer.isBuffer(raw) || typeof raw === 'string')) {
      // What mqtt-packet would treat specially (a Buffer topic, a non-string payload) is written by it, as Aedes does.
      writeAsAedes(client, forward, done)
      return
    }
    const payload = typeof raw === 'string' ? Buffer.from(raw) : raw
    const accepted = client.conn.write(encodePublish(topic, payload, forward.retain === true, forward.dup === true))
    if (!accepted && !client.errored) {
      client.waitForDrain((err) => { client._onError(err); done() })
      return
    }
    owe(done)
  }
}
