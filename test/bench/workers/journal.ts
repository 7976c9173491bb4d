import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '../../../src/log.js'
import { ComponentCompiler, type Compiled } from '../../../src/wasm/compiler.js'
import type { CallJournal, HostCallRecord } from '../../../src/wasm/host-journal.js'
import { WasmInstance } from '../../../src/wasm/instance.js'
import type { CallOutcome, ReplayCall } from '../../../src/wasm/worker.js'
import { combine, sequentialPair, type LatencyStats } from '../lib/latency.js'
import { median, pairedDiff, pairedRatio, roundRatios, spread, type BenchReport, type Cell, type Verdict } from '../lib/report.js'
import { ready, serve } from '../lib/child.js'
import { fixturePath } from '../lib/wasm-fixtures.js'

/**
 * The host-call journal of durable workers, on WasmInstance (a worker-thread round trip per call): what recording
 * costs per call (memcounter: no journaled host calls; clockrand sample: 3 clock/random calls; counter: 3 keyvalue
 * provider calls), against the same call without a journal; and how fast a recovery replays recorded calls, one
 * call() round trip per call against one replayBatch message for all of them.
 */
const WARMUP = 300
const SAMPLES = 3000
const REPLAYED = 5000
/** Warm replays are timed over this many passes of the recorded calls: one batch of 5 000 took ~150 ms, too short a window to reproduce. */
const WARM_PASSES = 3

interface Case { fixture: string, path: string[], linked?: string[] }
const CASES: Record<string, Case> = {
  'memcounter increment': { fixture: 'memcounter', path: ['colony:memcounter/api', 'increment'] },
  'clockrand sample (3 clock/random calls)': { fixture: 'clockrand', path: ['colony:clockrand/api', 'sample'] },
  'counter increment (3 keyvalue calls)': { fixture: 'counter', path: ['colony:counter/api', 'increment'], linked: ['wasi:keyvalue/store@0.2.0-draft'] },
}

function keyvalue (): (r: { method: string, args: unknown[] }) => unknown {
  const data = new Map<string, unknown>()
  return (r) => {
    const key = `${String(r.args[0])}/${String(r.args[1])}`
    if (r.method === 'get') return data.get(key)
    if (r.method === 'set') data.set(key, r.args[2])
    return undefined
  }
}

function checked (o: CallOutcome, what = ''): CallOutcome {
  if (!o.ok) throw new Error(`a benchmark call ${what} failed: ${o.message} (host calls ${JSON.stringify(o.hostCalls)})`)
  return o
}

async function measure (options: { rounds: number }): Promise<BenchReport> {
  const dir = await mkdtemp(join(tmpdir(), 'colony-bench-journal-'))
  const compiler = new ComponentCompiler(dir, createLogger({ level: 'warn' }))
  const instances: WasmInstance[] = []
  const start = async (c: Case): Promise<WasmInstance> => {
    const compiled: Compiled = await compiler.prepare(await readFile(fixturePath(c.fixture)))
    const instance = await WasmInstance.start(compiled, {
      linked: c.linked ?? [], hostCall: keyvalue(), memoryLimitBytes: 256 * 1024 * 1024, startTimeoutMs: 30_000, hostCallTimeoutMs: 10_000,
    })
    instances.push(instance)
    return instance
  }
  try {
    const overheadRows: Cell[][] = []
    const verdicts: Verdict[] = []
    for (const [name, c] of Object.entries(CASES)) {
      const plain: LatencyStats[] = []
      const recorded: LatencyStats[] = []
      const instance = await start(c)
      const journal: CallJournal = { record: true }
      for (let round = 0; round < options.rounds; round++) {
        const [p, r] = await sequentialPair(
          async () => checked(await instance.call(c.path, [], 30_000), name),
          async () => checked(await instance.call(c.path, [], 30_000, false, journal), `${name} (recorded)`),
          WARMUP, SAMPLES)
        plain.push(p)
        recorded.push(r)
      }
      const p = combine(plain)
      const r = combine(recorded)
      overheadRows.push([name, p.p50Us, r.p50Us, r.p50Us - p.p50Us, p.p99Us, r.p99Us])
      // A ratio, not the difference: a few µs on a ~100 µs round trip is within the machine's noise, and a difference
      // of two noisy medians swung between -1 and +5 µs from run to run.
      const [recordedP50, plainP50] = [recorded.map((x) => x.p50Us), plain.map((x) => x.p50Us)]
      const overhead = pairedDiff(recordedP50, plainP50)
      verdicts.push({ name: `journal recorded / not recorded call p50, ${name}`, ratio: pairedRatio(recordedP50, plainP50), detail: `${r.p50Us.toFixed(1)} µs recorded vs ${p.p50Us.toFixed(1)} µs without a journal (paired difference ${overhead.toFixed(1)} µs)` })
    }

    const replayRows: Cell[][] = []
    for (const [name, c] of Object.entries(CASES)) {
      const source = await start(c)
      const calls: ReplayCall[] = []
      for (let i = 0; i < REPLAYED; i++) {
        const o = checked(await source.call(c.path, [], 30_000, false, { record: true }))
        calls.push({ path: c.path, args: [], returnsResult: false, hostCalls: JSON.parse(JSON.stringify(o.hostCalls)) as HostCallRecord[] })
      }
      // Per round, each way on a fresh instance: cold (what a recovery meets: a new worker whose JIT has not seen the
      // glue yet), then warm (the same calls again, WARM_PASSES times). The two ways take turns, pass by pass, so both
      // meet the same moments of the machine: timed one instance after the other, the ratio moved by 25 % between runs.
      const rates = { singleCold: [] as number[], singleWarm: [] as number[], batchCold: [] as number[], batchWarm: [] as number[] }
      for (let round = 0; round < options.rounds; round++) {
        const [single, batch] = [await start(c), await start(c)]
        const ways = {
          single: async (): Promise<void> => {
            for (const call of calls) checked(await single.call(call.path, call.args, 30_000, false, { record: false, replay: call.hostCalls }))
          },
          batch: async (): Promise<void> => {
            const outcomes = await batch.replayBatch(calls, 600_000)
            if (outcomes.length !== REPLAYED || !outcomes.every((o) => o.ok)) throw new Error('the batch replay did not complete')
          },
        }
        const spent = { single: 0, batch: 0 }
        for (let pass = 0; pass <= WARM_PASSES; pass++) {
          for (const way of (round + pass) % 2 === 0 ? ['single', 'batch'] as const : ['batch', 'single'] as const) {
            const t = performance.now()
            await ways[way]()
            const ms = performance.now() - t
            if (pass === 0) (way === 'single' ? rates.singleCold : rates.batchCold).push(REPLAYED / (ms / 1000))
            else spent[way] += ms
          }
        }
        rates.singleWarm.push(WARM_PASSES * REPLAYED / (spent.single / 1000))
        rates.batchWarm.push(WARM_PASSES * REPLAYED / (spent.batch / 1000))
        await Promise.all([single.terminate(), batch.terminate()])
      }
      const [singleCold, singleWarm, batchCold, batchWarm] = [rates.singleCold, rates.singleWarm, rates.batchCold, rates.batchWarm].map(median) as [number, number, number, number]
      replayRows.push([name, singleCold, batchCold, `${(batchCold / singleCold).toFixed(1)}x`, singleWarm, batchWarm, `${(batchWarm / singleWarm).toFixed(1)}x`])
      verdicts.push({ name: `replayBatch vs call() round trips, warm, ${name}`, ratio: pairedRatio(rates.batchWarm, rates.singleWarm), detail: `${batchWarm.toFixed(0)} vs ${singleWarm.toFixed(0)} replayed calls/s (cold instance: ${batchCold.toFixed(0)} vs ${singleCold.toFixed(0)}); call() each ${spread(rates.singleWarm)}, ${roundRatios(rates.batchWarm, rates.singleWarm)}` })
    }
    return {
      tables: [
        { title: `Record overhead per call (µs, one call in flight, ${SAMPLES} samples x ${options.rounds} rounds, median of rounds)`, columns: ['call', 'p50 no journal', 'p50 recorded', 'overhead p50', 'p99 no journal', 'p99 recorded'], rows: overheadRows },
        { title: `Replay of ${REPLAYED} recorded calls into a fresh instance, then warm (${WARM_PASSES} passes) (calls/s, median of ${options.rounds} rounds)`, columns: ['call', 'cold: call() each', 'replayBatch', 'ratio', 'warm: call() each', 'replayBatch', 'ratio'], rows: replayRows },
      ],
      verdicts,
      notes: ['the instances run in worker threads of a process of their own; the keyvalue provider is a Map answering on its main thread'],
    }
  } finally {
    await Promise.all(instances.map((i) => i.terminate()))
    await rm(dir, { recursive: true, force: true })
  }
}

serve({ run: (a) => measure(a as { rounds: number }) }, () => undefined)

ready({ pid: process.pid })
