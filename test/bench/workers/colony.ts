// First, as in Colony's own entry points: quiets the dependencies' `debug` loggers (see quiet-debug.ts).
import '../../../src/broker/quiet-debug.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../../src/assembly.js'
import { createRuntime } from '../../../src/runtime.js'
import { BOOT, BRIDGES, KINDS } from '../../../src/assembly.js'
import { invokeComponent } from '../../../src/components.js'
import { argument, ready, serve } from '../lib/child.js'
import { ownCpu, sequential, type LatencyStats } from '../lib/latency.js'

/**
 * A real Colony (every system actor and bridge, from the same lists the CLI uses) in its own process, on
 * free ports, with a throwaway data dir. The parent spawns (and churns) actors and takes CPU marks over IPC.
 */
export interface ColonyArgs {
  heartbeatIntervalMs?: number
  maxActors?: number
  /** Turns the NATS bridge on: this Colony joins the lattice at `natsUrl` (default lattice and prefix). */
  natsUrl?: string
  /** The bridge's host_heartbeat period (default 30 s: none falls inside a short measurement). */
  natsHeartbeatIntervalMs?: number
  /** mqtt.persistRetained (default true, as configured). */
  persistRetained?: boolean
}
export interface ColonyInfo { pid: number, mqttPort: number, httpPort: number, mqttUrl: string, httpUrl: string, adminKey: string }
export interface RetainedStats { written: number, commits: number, rows: number }
export interface SpawnArgs { count: number, prefix: string, concurrency?: number }
export interface SpawnResult { ms: number, spawned: number, running: number }
/** `count` echo actors spawned and deleted again, `concurrency` at a time: a stream of lifecycle changes. */
export interface ChurnArgs { count: number, prefix: string, concurrency?: number }
export interface ChurnResult { ms: number, cycles: number, notRunning: number }
/** Calls invokeComponent in a loop: what REST and MQTT both do per invocation, without either transport. */
export interface InvokeLoopArgs { componentId: string, fn: string, params: unknown[], warmup: number, samples: number }
/** How many oplog commits (transactions, each one fsync) the durable workers needed so far. */
export interface WorkerStats { commits: number, appended: number }
/** Builds a memcounter worker's oplog up to `entries`, makes it leave memory, and times its first call back. */
export interface RecoveryArgs { componentId: string, name: string, entries: number, snapshots: boolean }
export interface RecoveryResult { entries: number, snapshots: boolean, recoveryMs: number, replayedInvocations: number }
/** A snapshot of the process; CPU from `process.cpuUsage()`, wall time from its monotonic clock. */
export interface Mark {
  cpuUs: number
  wallMs: number
  rssBytes: number
  heapUsedBytes: number
  heartbeatsPublished: number
  /** Beats postponed and coalesced because the bus was saturated. */
  heartbeatsDeferred: number
  busPublished: number
  busBacklog: number
}

const args = argument<ColonyArgs>()
const dataDir = mkdtempSync(join(tmpdir(), 'colony-bench-'))
// Also when the worker dies half way (a crash, the parent's SIGKILL after a leak does not run this, nothing can).
process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }))
const config = loadConfig({
  env: {},
  overrides: {
    http: { port: 0 },
    mqtt: { port: 0 },
    data: { dir: dataDir },
    log: { level: 'warn' },
    ...(args.persistRetained !== undefined && { mqtt: { port: 0, persistRetained: args.persistRetained } }),
    actors: {
      ...(args.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: args.heartbeatIntervalMs }),
      ...(args.maxActors !== undefined && { maxActors: args.maxActors }),
    },
    ...(args.natsUrl !== undefined && {
      nats: { url: args.natsUrl, ...(args.natsHeartbeatIntervalMs !== undefined && { heartbeatIntervalMs: args.natsHeartbeatIntervalMs }) },
    }),
  },
})
const rt = await createRuntime(config, { kinds: KINDS, boot: BOOT, bridges: BRIDGES })

// spawnInternal: these benches measure heartbeats and lattice events, not the durable write a user's spawn costs.
async function spawn ({ count, prefix, concurrency = 200 }: SpawnArgs): Promise<SpawnResult> {
  const started = performance.now()
  let running = 0
  // In batches: 10 000 spawns at once would each hold a promise and a pending start for no benefit.
  for (let i = 0; i < count; i += concurrency) {
    const batch: Array<Promise<unknown>> = []
    for (let j = i; j < Math.min(count, i + concurrency); j++) {
      batch.push(rt.system.spawnInternal('echo', { name: `${prefix}${j}` }).then((info) => { if (info.state === 'running') running++ }))
    }
    await Promise.all(batch)
    // A spawn settles in microtasks only: without a turn of the loop between batches, timers (the heartbeats of the
    // actors already running) and IPC would wait for all 100 000, as no real stream of spawn requests makes them.
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { ms: performance.now() - started, spawned: count, running }
}

async function churn ({ count, prefix, concurrency = 50 }: ChurnArgs): Promise<ChurnResult> {
  const started = performance.now()
  let next = 0
  let notRunning = 0
  // Each lane spawns an actor, deletes it once it runs, and takes the next name.
  const lane = async (): Promise<void> => {
    while (next < count) {
      const name = `${prefix}${next++}`
      const info = await rt.system.spawnInternal('echo', { name })
      if (info.state !== 'running') notRunning++
      await rt.system.remove(name)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane))
  return { ms: performance.now() - started, cycles: count, notRunning }
}

function mark (): Mark {
  const cpu = process.cpuUsage()
  const mem = process.memoryUsage()
  return {
    cpuUs: cpu.user + cpu.system,
    wallMs: performance.now(),
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    heartbeatsPublished: rt.actors.counters.heartbeatsPublished,
    heartbeatsDeferred: rt.actors.counters.heartbeatsDeferred,
    busPublished: rt.broker.bus.published,
    busBacklog: rt.broker.bus.backlog,
  }
}

function invokeLoop ({ componentId, fn, params, warmup, samples }: InvokeLoopArgs): Promise<LatencyStats> {
  const timeoutMs = rt.config.wasm.callTimeoutMs
  return sequential(() => invokeComponent(rt.system, rt.services.components, componentId, fn, params, { timeoutMs }), warmup, samples, ownCpu)
}

async function workerRecovery ({ componentId, name, entries, snapshots }: RecoveryArgs): Promise<RecoveryResult> {
  const workers = rt.services.workers
  const ref = { componentId, workerName: name }
  const every = workers.settings.snapshotEvery
  // Snapshots off: a snapshot interval no oplog reaches.
  if (!snapshots) workers.settings.snapshotEvery = Number.MAX_SAFE_INTEGER
  try {
    const invoke = (fn: string): Promise<unknown> => workers.invoke(undefined, componentId, name, fn, [], { await: true })
    while (workers.oplogFor(ref).lastIndex() < entries) await invoke('increment')
  } finally {
    workers.settings.snapshotEvery = every
  }
  const snapshot = workers.oplogFor(ref).latestSnapshot(0)
  const last = workers.oplogFor(ref).lastIndex()
  await rt.system.remove(workers.actorId(ref))
  const t0 = performance.now()
  const out = await workers.invoke(undefined, componentId, name, 'get', [], { await: true }) as { ok: true, result: { value: unknown[] } }
  const recoveryMs = performance.now() - t0
  if (Number(out.result.value[0]) < 1) throw new Error(`the recovered worker answered ${JSON.stringify(out.result.value)}`)
  const replayedInvocations = Math.round((last - (snapshots && snapshot !== undefined ? snapshot.oplogIndex : 1)) / 2)
  return { entries, snapshots, recoveryMs, replayedInvocations }
}

serve({
  workerRecovery: (a) => workerRecovery(a as RecoveryArgs),
  workerStats: (): WorkerStats => rt.services.workers.stats(),
  spawn: (a) => spawn(a as SpawnArgs),
  churn: (a) => churn(a as ChurnArgs),
  mark: () => mark(),
  /** A mark after a full collection (the worker runs with --expose-gc): live memory, not garbage not yet collected. */
  gcMark: () => {
    (globalThis as { gc?: () => void }).gc?.()
    return mark()
  },
  invokeLoop: (a) => invokeLoop(a as InvokeLoopArgs),
  retained: (): RetainedStats => ({
    written: rt.broker.retainedJournal?.written ?? 0,
    commits: rt.broker.retainedJournal?.commits ?? 0,
    rows: rt.identity.store.retained.all().length,
  }),
}, async () => {
  await rt.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const info: ColonyInfo = {
  pid: process.pid,
  mqttPort: rt.addresses.mqtt.port,
  httpPort: rt.addresses.http.port,
  mqttUrl: rt.urls.mqtt,
  adminKey: rt.identity.bootstrap?.apiKey ?? '',
  httpUrl: rt.urls.http,
}
ready(info)
