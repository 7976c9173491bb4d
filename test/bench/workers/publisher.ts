import { argument, ready, serve } from '../lib/child.js'
import { packetIdOffset, PUBACK, publishPacket, rawConnect } from '../lib/mqtt-raw.js'

/**
 * One fan-in publisher: floods PUBLISH packets as fast as the broker takes them. At QoS 0 TCP back-pressure is
 * the only throttle (when the broker stops reading, `write` returns false and we wait for `drain`); at QoS 1
 * at most `window` publishes are unacknowledged at a time, as a real QoS 1 client keeps them.
 */
export interface PublisherArgs {
  port: number
  index: number
  qos?: 0 | 1
  topic?: string
  window?: number
  /** Publish exactly this many, then stop (default: until `stop`). */
  count?: number
  /** QoS 0 only: publish this many per second, evenly every PACE_MS, instead of flooding. */
  rate?: number
}
/** What `stop` and `done` answer: how many were handed to the socket, and (QoS 1) how many the broker acknowledged. */
export interface PublisherTotals { sent: number, acked: number, unflushedBytes: number }

const PER_CHUNK = 64
/** A paced publisher writes what it owes this often: the broker sees small bursts, as from real sensors. */
const PACE_MS = 5
/** Writes per event-loop turn before yielding, so IPC (mark, stop) is still answered under load. */
const CHUNKS_PER_TURN = 16

const { port, index, qos = 0, topic = `bench/${index}/x`, window = 1024, count = Infinity, rate } = argument<PublisherArgs>()
if (rate !== undefined && qos !== 0) throw new Error('a paced publisher publishes at QoS 0')
// A chunk never holds more QoS 1 publishes than may be in flight (e.g. 32).
const perChunk = qos === 1 ? Math.max(1, Math.min(PER_CHUNK, window)) : PER_CHUNK
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
const template = Buffer.concat(Array.from({ length: perChunk }, () => one))
const idAt = qos === 1 ? packetIdOffset(one) : 0
let nextId = 1
let sent = 0
let running = false
let waitingForAcks = false

/** The next chunk to write: QoS 0 reuses one buffer; QoS 1 needs fresh packet ids (a written buffer is not copied). */
function nextChunk (): Buffer {
  if (qos === 0) return template
  const chunk = Buffer.from(template)
  for (let k = 0; k < perChunk; k++) {
    chunk.writeUInt16BE(nextId, k * one.length + idAt)
    nextId = nextId === 65535 ? 1 : nextId + 1
  }
  return chunk
}

const unacked = (): number => sent - (client.counter.counts[PUBACK] as number)

function pump (): void {
  for (let n = 0; running && n < CHUNKS_PER_TURN; n++) {
    if (qos === 1 && unacked() + perChunk > window) {
      waitingForAcks = true
      return
    }
    const left = count - sent
    if (left <= 0) {
      running = false
      break
    }
    // The last chunk of a counted run may be partial: whole packets off the front of a full one.
    const chunk = left >= perChunk ? nextChunk() : nextChunk().subarray(0, left * one.length)
    sent += Math.min(perChunk, left)
    if (!client.socket.write(chunk)) {
      client.socket.once('drain', pump)
      return
    }
  }
  if (running) setImmediate(pump)
}

let pacer: NodeJS.Timeout | undefined

/**
 * Paced: from `go` on, `rate` per second counted from the start (not per tick, so a late timer catches up and
 * the rate does not drift). Whole packets off the front of the chunk template, as many chunks as owed.
 */
function pace (perSecond: number): void {
  const started = performance.now()
  pacer = setInterval(() => {
    let owed = Math.floor((performance.now() - started) * perSecond / 1000) - sent
    while (running && owed > 0) {
      const n = Math.min(owed, perChunk)
      client.socket.write(n === perChunk ? template : template.subarray(0, n * one.length))
      sent += n
      owed -= n
    }
  }, PACE_MS)
}

let onAck: (() => void) | undefined
client.counter.onControl = (type) => {
  if (type !== PUBACK) return
  onAck?.()
  if (waitingForAcks && unacked() <= window / 2) {
    waitingForAcks = false
    pump()
  }
}

/** Resolves once the socket has flushed what was written and (QoS 1) every publish is acknowledged, or after `timeoutMs`. */
async function settle (timeoutMs: number): Promise<PublisherTotals> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline && (running || client.socket.writableLength > 0 || (qos === 1 && unacked() > 0))) {
    // Woken by an ack or, at most 20 ms later, to look at the socket again.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 20)
      onAck = () => { clearTimeout(timer); resolve() }
    })
    onAck = undefined
  }
  return { sent, acked: client.counter.counts[PUBACK] as number, unflushedBytes: client.socket.writableLength }
}

serve({
  go: () => {
    running = true
    if (rate === undefined) pump()
    else pace(rate)
  },
  mark: () => sent,
  acked: () => client.counter.counts[PUBACK],
  /** Stops publishing and waits (up to 20 s) until everything sent has left (and, QoS 1, is acknowledged). */
  stop: () => {
    running = false
    clearInterval(pacer)
    return settle(20_000)
  },
  /** With `count`: waits until all of them are sent (and acknowledged). */
  done: () => settle(120_000),
}, async () => {
  running = false
  clearInterval(pacer)
  await client.close()
})

ready({ pid: process.pid, payloadBytes: payload.length, packetBytes: one.length })
