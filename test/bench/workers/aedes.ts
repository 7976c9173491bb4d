import { Aedes } from 'aedes'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { ready, serve } from '../lib/child.js'

/**
 * The baseline for Colony's broker: a bare Aedes with the options Colony gives its own (heartbeat and
 * drain timeouts), default in-memory persistence and mqemitter, and nothing between the socket and
 * `aedes.handle`: no hooks, no packet-size guard, no ordered emitter.
 */
export interface AedesInfo { pid: number, port: number }

const aedes = await Aedes.createBroker({ heartbeatInterval: 60_000, drainTimeout: 60_000 })
const server = createServer(aedes.handle)
await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()))

serve({}, async () => {
  await new Promise<void>((resolve) => aedes.close(() => resolve()))
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

const info: AedesInfo = { pid: process.pid, port: (server.address() as AddressInfo).port }
ready(info)
