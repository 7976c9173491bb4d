import { argument, ready, serve } from '../lib/child.js'
import { publishPacket, rawConnect } from '../lib/mqtt-raw.js'

/**
 * One fan-in publisher: floods QoS 0 PUBLISH packets as fast as the broker reads them. TCP back-pressure
 * is the only throttle: when the broker stops reading, `write` returns false and we wait for `drain`.
 */
export interface PublisherArgs { port: number, index: number }

const PER_CHUNK = 64
/** Writes per event-loop turn before yielding, so IPC (mark, stop) is still answered under load. */
const CHUNKS_PER_TURN = 16

const { port, index } = argument<PublisherArgs>()
const client = await rawConnect(port, `bench-pub-${index}-${process.pid}`)
// ~150 bytes of JSON, shaped like a sensor reading; the same bytes every time (the broker never parses them).
const payload = Buffer.from(JSON.stringify({
  agentId: `bench-publisher-${index}`,
  seq: 1234567,
  timestampMs: Date.now(),
  state: 'running',
  temperature: 21.53,
  humidity: 0.4711,
  note: 'fan-in benchmark payload, QoS 0',
}))
const chunk = Buffer.concat(Array.from({ length: PER_CHUNK }, () => publishPacket(`bench/${index}/x`, payload)))
let sent = 0
let running = false

function pump (): void {
  for (let n = 0; running && n < CHUNKS_PER_TURN; n++) {
    sent += PER_CHUNK
    if (!client.socket.write(chunk)) {
      client.socket.once('drain', pump)
      return
    }
  }
  if (running) setImmediate(pump)
}

serve({
  go: () => { running = true; pump() },
  mark: () => sent,
}, async () => {
  running = false
  await client.close()
})

ready({ pid: process.pid, payloadBytes: payload.length, packetBytes: chunk.length / PER_CHUNK })
