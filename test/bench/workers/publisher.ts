import { argument, ready, serve } from '../lib/child.js'
import { packetIdOffset, PUBACK, publishPacket, rawConnect } from '../lib/mqtt-raw.js'

/**
 * One fan-in publisher: floods PUBLISH packets as fast as the broker takes them. At QoS 0 TCP back-pressure is
 * the only throttle (when the broker stops reading, `write` returns false and we wait for `drain`); at QoS 1
 * at most `window` publishes are unacknowledged at a time, as a real QoS 1 client keeps them.
 */
export interface PublisherArgs { port: number, index: number, qos?: 0 | 1, topic?: string, window?: number }

const PER_CHUNK = 64
/** Writes per event-loop turn before yielding, so IPC (mark, stop) is still answered under load. */
const CHUNKS_PER_TURN = 16

const { port, index, qos = 0, topic = `bench/${index}/x`, window = 1024 } = argument<PublisherArgs>()
const client = await rawConnect(port, `bench-pub-${index}-${process.pid}`)
// ~150 bytes of JSON, shaped like a sensor reading; the same bytes every time (the broker never parses them).
const payload = Buffer.from(JSON.stringify({
  agentId: `bench-publisher-${index}`,
  seq: 1234567,
  timestampMs: Date.now(),
  state: 'running',
  temperature: 21.53,
  humidity: 0.4711,
  note: `fan-in benchmark payload, QoS ${qos}`,
}))
const one = publishPacket(topic, payload, qos)
const template = Buffer.concat(Array.from({ length: PER_CHUNK }, () => one))
const idAt = qos === 1 ? packetIdOffset(one) : 0
let nextId = 1
let sent = 0
let running = false
let waitingForAcks = false

/** The next chunk to write: QoS 0 reuses one buffer; QoS 1 needs fresh packet ids (a written buffer is not copied). */
function nextChunk (): Buffer {
  if (qos === 0) return template
  const chunk = Buffer.from(template)
  for (let k = 0; k < PER_CHUNK; k++) {
    chunk.writeUInt16BE(nextId, k * one.length + idAt)
    nextId = nextId === 65535 ? 1 : nextId + 1
  }
  return chunk
}

const unacked = (): number => sent - (client.counter.counts[PUBACK] as number)

function pump (): void {
  for (let n = 0; running && n < CHUNKS_PER_TURN; n++) {
    if (qos === 1 && unacked() + PER_CHUNK > window) {
      waitingForAcks = true
      return
    }
    sent += PER_CHUNK
    if (!client.socket.write(nextChunk())) {
      client.socket.once('drain', pump)
      return
    }
  }
  if (running) setImmediate(pump)
}

client.counter.onControl = (type) => {
  if (type === PUBACK && waitingForAcks && unacked() <= window / 2) {
    waitingForAcks = false
    pump()
  }
}

serve({
  go: () => { running = true; pump() },
  mark: () => sent,
  acked: () => client.counter.counts[PUBACK],
}, async () => {
  running = false
  await client.close()
})

ready({ pid: process.pid, payloadBytes: payload.length, packetBytes: one.length })
