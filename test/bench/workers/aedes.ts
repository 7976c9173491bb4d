import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { argument, ready, serve } from '../lib/child.js'

/**
 * The baseline for Colony's broker: a bare Aedes with the options Colony gives its own (heartbeat and
 * drain timeouts), default in-memory persistence and mqemitter: no hooks, no packet-size guard, no ordered
 * emitter. `tuned` gives it the transport tricks Colony's listener uses (the very function: TCP_NODELAY and
 * per-turn write coalescing), its lean QoS 0 delivery, its cache of topic matches and its quiet `debug` loggers,
 * so a ratio against it measures Colony's broker layers, not its socket handling.
 */
export interface AedesArgs { tuned?: boolean }
export interface AedesInfo { pid: number, port: number, tuned: boolean }

const { tuned = false } = argument<AedesArgs>()
// The tuned broker quiets the `debug` loggers as Colony does, before Aedes and mqtt-packet load: hence the
// imports here rather than at the top.
if (tuned) await import('../../../src/broker/quiet-debug.js')
const { Aedes } = await import('aedes')
const { default: mqemitter } = await import('mqemitter')
const { coalesceSocketWrites } = await import('../../../src/broker/coalesce.js')
const { installLeanQos0Delivery } = await import('../../../src/broker/deliver-qos0.js')
const { cacheMatches } = await import('../../../src/broker/mq.js')
// Aedes' own default emitter (concurrency 100), made here so the tuned broker can have the match cache.
const mq = mqemitter({ concurrency: 100, matchEmptyLevels: true })
if (tuned) cacheMatches(mq)
const aedes = await Aedes.createBroker({ heartbeatInterval: 60_000, drainTimeout: 60_000, mq })
const server = tuned
  ? createServer((socket) => {
    coalesceSocketWrites(socket)
    installLeanQos0Delivery(aedes.handle(socket) as unknown as Parameters<typeof installLeanQos0Delivery>[0])
  })
  : createServer(aedes.handle)
await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()))

serve({}, async () => {
  await new Promise<void>((resolve) => aedes.close(() => resolve()))
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

const info: AedesInfo = { pid: process.pid, port: (server.address() as AddressInfo).port, tuned }
ready(info)
