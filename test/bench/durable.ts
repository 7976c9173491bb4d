import { readFileSync } from 'node:fs'
import { ComponentsApi } from './lib/components-api.js'
import { HttpClient } from './lib/http-client.js'
import { combine, sequential, type LatencyStats } from './lib/latency.js'
import { procSample, Scope, startWorker } from './lib/proc.js'
import { median, pairedRatio, roundsOf, type Bench, type Cell, type Table, type Verdict } from './lib/report.js'
import { fixturePath } from './lib/wasm-fixtures.js'
import type { ColonyInfo, RecoveryArgs, RecoveryResult, WorkerStats } from './workers/colony.js'

/**
 * Durable workers (`npm run bench -- workers`), against a real Colony in its own process (store synchronous=FULL,
 * as configured by default):
 *  - latency of `increment()` on a memcounter worker, invoke-and-await over REST, one call in flight, against the
 *    same call over REST on the same component run as a plain (non-durable) component actor, in the same run;
 *  - invocations per second with 1, 16 and 64 callers, each on its own worker, and how many commits (fsyncs) the
 *    oplog needed: group commit is what lets many invocations share one;
 *  - recovery: the first call after a worker left memory, with 1 000 and 100 000 oplog entries, with snapshots (the
 *    default: every 1 000 entries) and by full replay (snapshots off).
 */
const WARMUP = 200
const SAMPLES = 1500
const CALLERS = [1, 16, 64]
const WINDOW_MS = 3000

async function latency (api: ComponentsApi, base: string, componentId: string, rounds: number, pid: number): Promise<{ durable: LatencyStats, plain: LatencyStats }> {
  const json = { 'content-type': 'application/json' }
  const body = Buffer.from(JSON.stringify({ params: [] }))
  const durableUrl = `${base}/v1/components/${componentId}/workers/bench-latency/invoke-and-await?function=increment`
  const plainUrl = api.invokeUrl(componentId, 'increment')
  const post = (url: string) => async (): Promise<void> => {
    const r = await api.http.send('POST', url, body, json)
    if (r.status !== 200) throw new Error(`POST ${url} answered ${r.status}: ${r.body.toString('utf8').slice(0, 200)}`)
  }
  const cpu = (): number => procSample(pid).cpuUs
  const durable: LatencyStats[] = []
  const plain: LatencyStats[] = []
  for (let round = 0; round < rounds; round++) {
    process.stderr.write(`[bench] workers: round ${round + 1}/${rounds}, latency\n`)
    // Alternating order, so neither side always runs on a warmer (or more tired) process.
    if (round % 2 === 0) {
      durable.push(await sequential(post(durableUrl), WARMUP, SAMPLES, cpu))
      plain.push(await sequential(post(plainUrl), WARMUP, SAMPLES, cpu))
    } else {
      plain.push(await sequential(post(plainUrl), WARMUP, SAMPLES, cpu))
      durable.push(await sequential(post(durableUrl), WARMUP, SAMPLES, cpu))
    }
  }
  return { durable: combine(durable), plain: combine(plain) }
}

interface Throughput { perSecond: number, commits: number, invocations: number }

async function throughput (base: string, componentId: string, callers: number, colonyStats: () => Promise<WorkerStats>): Promise<Throughput> {
  // One keep-alive connection per caller: a shared one would put every call in one line and measure nothing else.
  const clients = Array.from({ length: callers }, () => new HttpClient())
  try {
    return await measureThroughput(clients, base, componentId, colonyStats)
  } finally {
    for (const c of clients) c.close()
  }
}

async function measureThroughput (clients: HttpClient[], base: string, componentId: string, colonyStats: () => Promise<WorkerStats>): Promise<Throughput> {
  const callers = clients.length
  const json = { 'content-type': 'application/json' }
  const body = Buffer.from(JSON.stringify({ params: [] }))
  const url = (i: number): string => `${base}/v1/components/${componentId}/workers/bench-tp-${callers}-${i}/invoke-and-await?function=increment`
  // Each worker is created and warm before the window opens.
  await Promise.all(clients.map((c, i) => c.send('POST', url(i), body, json)))
  const before = await colonyStats()
  let done = 0
  const end = performance.now() + WINDOW_MS
  const lane = async (i: number): Promise<void> => {
    while (performance.now() < end) {
      const r = await (clients[i] as HttpClient).send('POST', url(i), body, json)
      if (r.status !== 200) throw new Error(`invoke answered ${r.status}`)
      done++
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: callers }, (_, i) => lane(i)))
  const seconds = (performance.now() - t0) / 1000
  const after = await colonyStats()
  return { perSecond: done / seconds, commits: after.commits - before.commits, invocations: done }
}

export const workersBench: Bench = {
  name: 'workers',
  description: 'durable worker invoke-and-await vs a plain component actor; group commit at 1/16/64 callers; recovery of 1k and 100k oplog entries',
  // A round takes over 90 s (the 100k-entry recoveries), but at three the fsync-bound p50s moved by 15-25 % between
  // full runs: five.
  defaultRounds: 5,
  async run (options) {
    const scope = new Scope()
    const notes: string[] = []
    try {
      const colony = startWorker('colony', 'colony-workers')
      scope.defer(() => colony.kill())
      const info = await colony.ready<ColonyInfo>()
      const api = new ComponentsApi(info.httpUrl)
      scope.defer(() => api.close())
      const componentId = await api.upload('memcounter', readFileSync(fixturePath('memcounter')))
      const stats = (): Promise<WorkerStats> => colony.request<WorkerStats>('workerStats', {})

      const lat = await latency(api, info.httpUrl, componentId, options.rounds, info.pid)
      const tpRows: Cell[][] = []
      const tp = new Map<number, Throughput[]>()
      for (let round = 0; round < options.rounds; round++) {
        for (const n of CALLERS) {
          process.stderr.write(`[bench] workers: round ${round + 1}/${options.rounds}, ${n} callers\n`)
          tp.set(n, [...(tp.get(n) ?? []), await throughput(info.httpUrl, componentId, n, stats)])
        }
      }
      for (const n of CALLERS) {
        const runs = tp.get(n) ?? []
        const perSecond = median(runs.map((r) => r.perSecond))
        const perCommit = median(runs.map((r) => r.invocations / Math.max(1, r.commits)))
        tpRows.push([n, perSecond, perCommit, runs.map((r) => Math.round(r.perSecond)).join('/')])
      }

      const recovery: RecoveryResult[] = []
      for (let round = 0; round < options.rounds; round++) {
        for (const entries of [1000, 100_000]) {
          for (const snapshots of [true, false]) {
            process.stderr.write(`[bench] workers: round ${round + 1}/${options.rounds}, recovery of ${entries} entries, snapshots ${snapshots ? 'on' : 'off'}\n`)
            recovery.push(await colony.request<RecoveryResult>('workerRecovery', { componentId, entries, snapshots, name: `rec-${round}-${entries}-${snapshots}` } satisfies RecoveryArgs, 600_000))
          }
        }
      }
      const rec = (entries: number, snapshots: boolean): number => median(recovery.filter((r) => r.entries === entries && r.snapshots === snapshots).map((r) => r.recoveryMs))
      const replayRate = median(recovery.filter((r) => !r.snapshots && r.entries === 100_000).map((r) => r.replayedInvocations / (r.recoveryMs / 1000)))
      if (!await colony.close()) notes.push('the Colony runtime did not exit by itself after close()')

      const tables: Table[] = [
        {
          title: `Invoke-and-await over REST, one call in flight, µs (median of ${options.rounds} rounds of ${SAMPLES})`,
          columns: ['path', 'p50', 'p99', 'mean', 'server CPU/call'],
          rows: [
            ['durable worker (oplog, fsync per commit)', lat.durable.p50Us, lat.durable.p99Us, lat.durable.meanUs, lat.durable.cpuUsPerCall],
            ['plain component actor (same call)', lat.plain.p50Us, lat.plain.p99Us, lat.plain.meanUs, lat.plain.cpuUsPerCall],
          ],
        },
        {
          title: `Durable invocations per second, each caller on its own worker (${WINDOW_MS / 1000} s windows, median of ${options.rounds})`,
          columns: ['callers', 'invocations/s', 'invocations per commit', 'rounds'],
          rows: tpRows,
          note: 'one commit = one SQLite transaction = one fsync of the WAL (synchronous=FULL)',
        },
        {
          title: `Recovery: first call after the worker left memory, ms (median of ${options.rounds})`,
          columns: ['oplog entries', 'with snapshots (every 1000 entries)', 'full replay'],
          rows: [[1000, rec(1000, true), rec(1000, false)], [100_000, rec(100_000, true), rec(100_000, false)]],
          note: `full replay runs ${Math.round(replayRate).toLocaleString('en-US')} recorded invocations/s in the instance's thread`,
        },
      ]
      const verdicts: Verdict[] = [
        {
          name: 'durable invoke-and-await p50',
          ratio: lat.durable.p50Us / 1000,
          targetMax: 2,
          unit: 'ms',
          detail: `p99 ${(lat.durable.p99Us / 1000).toFixed(2)} ms; Golem publishes ~6-10 ms per echo call (M4 Max)`,
        },
        {
          name: 'durable / plain component p50',
          ratio: lat.durable.p50Us / lat.plain.p50Us,
          detail: `${lat.durable.p50Us.toFixed(0)} µs vs ${lat.plain.p50Us.toFixed(0)} µs: the price of the oplog and its fsync`,
        },
        {
          name: 'group commit: invocations/s at 64 callers / at 1 caller',
          ratio: pairedRatio(roundsOf(tp, 64, (r) => r.perSecond), roundsOf(tp, 1, (r) => r.perSecond)),
          detail: 'more callers share each fsync',
        },
        {
          name: 'recovery 100k / 1k entries (snapshots on)',
          ratio: rec(100_000, true) / rec(1000, true),
          targetMax: 10,
          detail: `${rec(100_000, true).toFixed(1)} ms vs ${rec(1000, true).toFixed(1)} ms (full replay: ${rec(100_000, false).toFixed(0)} ms vs ${rec(1000, false).toFixed(1)} ms)`,
        },
      ]
      return { tables, verdicts, notes }
    } finally {
      await scope.close()
    }
  },
}
