import mqtt from 'mqtt'
import { Scope, startWorker } from './lib/proc.js'
import { median, pairedDiff, pairedRatio, percentile, rotate, roundsOf, type Bench, type Cell, type Verdict } from './lib/report.js'
import type { ColonyInfo, RetainedStats } from './workers/colony.js'

/**
 * What durable retained messages cost: QoS 1 retained publishes (Home Assistant style state topics) to a Colony
 * that writes them to SQLite before the PUBACK (`mqtt.persistRetained: true`, `synchronous=FULL`) vs the same
 * Colony keeping them in memory (`false`), each in its own process, one publisher with a window of messages in
 * flight. Also one publish at a time: the latency a device sees.
 */
const TOPICS = 1000
const WINDOW = 100
const SEQUENTIAL = 1000

interface Run { msgPerS: number, p50Us: number, p99Us: number, seqP50Us: number, stats: RetainedStats }

async function measure (info: ColonyInfo, windowS: number, request: () => Promise<RetainedStats>): Promise<Run> {
  const client = await mqtt.connectAsync(info.mqttUrl, { username: 'bench', password: info.adminKey, reconnectPeriod: 0 })
  try {
    const payload = (i: number): string => JSON.stringify({ state: i % 7 === 0 ? 'on' : 'off', temperature: 20 + (i % 50) / 10, i })
    // One at a time first (warm-up included), then the window.
    for (let i = 0; i < 200; i++) await client.publishAsync(`bench/seq/${i % 10}`, payload(i), { qos: 1, retain: true })
    const seq: number[] = []
    for (let i = 0; i < SEQUENTIAL; i++) {
      const t = performance.now()
      await client.publishAsync(`bench/seq/${i % 10}`, payload(i), { qos: 1, retain: true })
      seq.push((performance.now() - t) * 1000)
    }
    const before = await request()
    const latencies: number[] = []
    let sent = 0
    let acked = 0
    const until = performance.now() + windowS * 1000
    await new Promise<void>((resolve, reject) => {
      const pump = (): void => {
        while (sent - acked < WINDOW && performance.now() < until) {
          const i = sent++
          const t = performance.now()
          client.publishAsync(`bench/devices/d${i % TOPICS}/state`, payload(i), { qos: 1, retain: true }).then(() => {
            acked++
            latencies.push((performance.now() - t) * 1000)
            if (acked === sent && performance.now() >= until) resolve()
            else pump()
          }, reject)
        }
      }
      pump()
    })
    const after = await request()
    seq.sort((a, b) => a - b)
    latencies.sort((a, b) => a - b)
    return {
      msgPerS: acked / windowS,
      p50Us: percentile(latencies, 0.5),
      p99Us: percentile(latencies, 0.99),
      seqP50Us: percentile(seq, 0.5),
      stats: { written: after.written - before.written, commits: after.commits - before.commits, rows: after.rows },
    }
  } finally {
    await client.endAsync()
  }
}

export const retainedBench: Bench = {
  name: 'retained',
  description: 'QoS 1 retained publishes stored in SQLite before the PUBACK vs kept in memory',
  // Each stored publish waits for an fsync, whose time drifts with the disk: nine short rounds hold the
  // paired median where five moved it by more than 15 % between full runs.
  defaultRounds: 9,
  async run (options) {
    const windowS = options.windowS ?? 4
    const scope = new Scope()
    const notes: string[] = []
    try {
      const durable = startWorker('colony', 'colony-retained-durable', { persistRetained: true })
      scope.defer(() => durable.kill())
      const memory = startWorker('colony', 'colony-retained-memory', { persistRetained: false })
      scope.defer(() => memory.kill())
      const targets = [
        { name: 'SQLite (persistRetained)', info: await durable.ready<ColonyInfo>(), worker: durable },
        { name: 'memory only', info: await memory.ready<ColonyInfo>(), worker: memory },
      ]
      const runs = new Map<string, Run[]>()
      for (let round = 0; round < options.rounds; round++) {
        for (const t of rotate(targets, round)) {
          process.stderr.write(`[bench] retained: round ${round + 1}/${options.rounds}, ${t.name}\n`)
          runs.set(t.name, [...(runs.get(t.name) ?? []), await measure(t.info, windowS, () => t.worker.request<RetainedStats>('retained'))])
        }
      }
      const rows: Cell[][] = []
      const med = (name: string, f: (r: Run) => number): number => median((runs.get(name) ?? []).map(f))
      for (const t of targets) {
        const rs = runs.get(t.name) ?? []
        rows.push([t.name, med(t.name, (r) => r.msgPerS), med(t.name, (r) => r.p50Us), med(t.name, (r) => r.p99Us), med(t.name, (r) => r.seqP50Us),
          rs.reduce((s, r) => s + r.stats.written, 0), rs.reduce((s, r) => s + r.stats.commits, 0)])
      }
      const durableName = targets[0]?.name ?? ''
      const memoryName = targets[1]?.name ?? ''
      const last = runs.get(durableName)?.at(-1)?.stats
      const verdicts: Verdict[] = [{
        name: 'retained QoS 1 throughput, stored / in memory',
        ratio: pairedRatio(roundsOf(runs, durableName, (r) => r.msgPerS), roundsOf(runs, memoryName, (r) => r.msgPerS)),
        target: 0.5,
        detail: `${WINDOW} in flight over ${TOPICS} topics; ${(med(durableName, (r) => r.stats.written / Math.max(1, r.stats.commits))).toFixed(1)} messages per commit; ${last?.rows ?? 0} topics stored`,
      }, {
        name: 'retained QoS 1, one at a time: added by storing, p50',
        ratio: pairedDiff(roundsOf(runs, durableName, (r) => r.seqP50Us), roundsOf(runs, memoryName, (r) => r.seqP50Us)),
        unit: 'µs',
        targetMax: 1000,
        detail: `${med(durableName, (r) => r.seqP50Us).toFixed(0)} vs ${med(memoryName, (r) => r.seqP50Us).toFixed(0)} µs p50 (one fsync per publish)`,
      }]
      for (const t of targets) if (!await t.worker.close()) notes.push(`${t.name}: the Colony runtime did not exit by itself after close()`)
      return {
        tables: [{
          title: `QoS 1 retained publishes, ${windowS} s per run, median of ${options.rounds}`,
          columns: ['store', 'msg/s', 'ack p50 µs', 'ack p99 µs', 'one at a time p50 µs', 'written', 'commits'],
          rows,
        }],
        verdicts,
        notes,
      }
    } finally {
      await scope.close()
    }
  },
}
