import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store } from '../../src/store/index.js'
import { Oplog, type OplogEntry } from '../../src/workers/oplog-entries.js'
import { OplogWriter } from '../../src/workers/oplog-writer.js'
import { median, pairedRatio, percentile, roundsOf, type Bench, type Cell, type Verdict } from './lib/report.js'

/**
 * What group commit buys the durable oplog: appends/s with 1, 16 and 64 concurrent appenders (each its own
 * worker, each awaiting its previous append, as a worker's invocations do) through the OplogWriter, against one
 * transaction per append, on the same SQLite file with the same `synchronous=FULL`, in the same run. Each append
 * is one ImportedFunctionInvoked entry of a realistic size (a wall-clock read).
 */
const CONCURRENCY = [1, 16, 64]

interface Run { appendsPerS: number, p50Us: number, p99Us: number, perCommit: number }

const entry = (i: number): OplogEntry => Oplog.importedFunctionInvoked('wasi:clocks/wall-clock::now', { typ: { type: 'Tuple', items: [] }, value: [] },
  { typ: { type: 'Record', fields: [{ name: 'seconds', typ: { type: 'U64' } }, { name: 'nanoseconds', typ: { type: 'U32' } }] }, value: { seconds: 1_700_000_000 + i, nanoseconds: i } },
  'ReadLocal')

const turn = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

async function measure (store: Store, workers: number[], windowS: number, grouped: boolean): Promise<Run> {
  const writer = new OplogWriter(store.oplog)
  const latencies: number[] = []
  const commitsBefore = store.oplog.commits
  let appends = 0
  const until = performance.now() + windowS * 1000
  await Promise.all(workers.map(async (seq) => {
    let i = 0
    while (performance.now() < until) {
      const t = performance.now()
      if (grouped) {
        await writer.append(seq, [entry(i++)])
      } else {
        // The baseline: the same rows, one transaction each, the appenders taking turns as they would.
        const idx = store.oplog.lastIndex(seq) + 1
        store.oplog.appendBatch([{ worker: seq, rows: [{ idx, entry: JSON.stringify(entry(i++)) }], invocations: [] }])
        await turn()
      }
      latencies.push((performance.now() - t) * 1000)
      appends++
    }
  }))
  latencies.sort((a, b) => a - b)
  return {
    appendsPerS: appends / windowS,
    p50Us: percentile(latencies, 0.5),
    p99Us: percentile(latencies, 0.99),
    perCommit: appends / Math.max(1, store.oplog.commits - commitsBefore),
  }
}

export const oplogBench: Bench = {
  name: 'oplog',
  description: 'durable oplog appends/s: group commit vs one transaction per append (synchronous=FULL)',
  // Appends wait for fsyncs, whose time drifts with the disk: nine short rounds hold the paired median where
  // five moved the 64-appender ratio by 17 % between full runs.
  defaultRounds: 9,
  async run (options) {
    const windowS = options.windowS ?? 2
    const dir = mkdtempSync(join(tmpdir(), 'colony-bench-oplog-'))
    const store = Store.open({ file: join(dir, 'colony.db'), synchronous: 'full' })
    try {
      const workers: number[] = []
      const setup = new OplogWriter(store.oplog)
      for (let i = 0; i < Math.max(...CONCURRENCY); i++) {
        const seq = store.workers.insert({ componentId: 'bench', name: `w${i}`, teamId: null, componentVersion: 0, args: [], env: {}, createdAtMs: Date.now() }).seq
        setup.appendNow(seq, [Oplog.create({ workerId: { componentId: 'bench', workerName: `w${i}` }, componentVersion: 0, accountId: 'bench', componentSize: 1, initialTotalLinearMemorySize: 65536 })])
        workers.push(seq)
      }
      const runs = new Map<string, Run[]>()
      const key = (grouped: boolean, n: number): string => `${grouped ? 'group commit' : 'one tx per append'} x${n}`
      for (let round = 0; round < options.rounds; round++) {
        for (const n of CONCURRENCY) {
          // Alternate which goes first: the disk's state drifts during a run.
          for (const grouped of round % 2 === 0 ? [true, false] : [false, true]) {
            process.stderr.write(`[bench] oplog: round ${round + 1}/${options.rounds}, ${key(grouped, n)}\n`)
            runs.set(key(grouped, n), [...(runs.get(key(grouped, n)) ?? []), await measure(store, workers.slice(0, n), windowS, grouped)])
          }
        }
      }
      const med = (k: string, f: (r: Run) => number): number => median((runs.get(k) ?? []).map(f))
      const rows: Cell[][] = []
      for (const n of CONCURRENCY) {
        for (const grouped of [true, false]) {
          const k = key(grouped, n)
          rows.push([k, med(k, (r) => r.appendsPerS), med(k, (r) => r.p50Us), med(k, (r) => r.p99Us), med(k, (r) => r.perCommit)])
        }
      }
      const verdicts: Verdict[] = CONCURRENCY.map((n) => ({
        name: `oplog appends/s with ${n} concurrent appender${n === 1 ? '' : 's'}, group commit / one transaction per append`,
        ratio: pairedRatio(roundsOf(runs, key(true, n), (r) => r.appendsPerS), roundsOf(runs, key(false, n), (r) => r.appendsPerS)),
        ...(n >= 16 ? { target: 4 } : {}),
        detail: `${med(key(true, n), (r) => r.appendsPerS).toFixed(0)} vs ${med(key(false, n), (r) => r.appendsPerS).toFixed(0)} appends/s; ` +
          `${med(key(true, n), (r) => r.perCommit).toFixed(1)} appends per commit; ack p50 ${med(key(true, n), (r) => r.p50Us).toFixed(0)} µs`,
      }))
      return {
        tables: [{
          title: `Oplog appends, one ImportedFunctionInvoked entry each, synchronous=FULL, ${windowS} s per run, median of ${options.rounds}`,
          columns: ['mode x appenders', 'appends/s', 'ack p50 µs', 'ack p99 µs', 'appends/commit'],
          rows,
        }],
        verdicts,
        notes: [],
      }
    } finally {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  },
}
