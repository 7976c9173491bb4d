import { median, percentile } from './report.js'

/**
 * Latency of one kind of call, in microseconds, and the CPU the serving process spent per call (user + system,
 * every thread; NaN when not measured): on a 2-core machine latency includes waiting for a core, CPU does not.
 */
export interface LatencyStats { n: number, p50Us: number, p99Us: number, meanUs: number, cpuUsPerCall: number }

/** Reads a process's CPU time in µs: `process.cpuUsage` in the process itself, /proc for another one. */
export type CpuClock = () => number

export const ownCpu: CpuClock = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

export function summarize (samplesUs: number[], cpuUs = NaN): LatencyStats {
  const sorted = [...samplesUs].sort((a, b) => a - b)
  return {
    n: sorted.length,
    p50Us: percentile(sorted, 0.5),
    p99Us: percentile(sorted, 0.99),
    meanUs: sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length),
    cpuUsPerCall: cpuUs / sorted.length,
  }
}

/** Rounds of the same measurement: the median of each percentile (the machine is noisy), samples added up. */
export function combine (rounds: LatencyStats[]): LatencyStats {
  return {
    n: rounds.reduce((s, r) => s + r.n, 0),
    p50Us: median(rounds.map((r) => r.p50Us)),
    p99Us: median(rounds.map((r) => r.p99Us)),
    meanUs: median(rounds.map((r) => r.meanUs)),
    cpuUsPerCall: median(rounds.map((r) => r.cpuUsPerCall)),
  }
}

/** One call in flight at a time: `warmup` unmeasured calls (JIT, caches, connections), then `samples` timed ones. */
export async function sequential (call: () => Promise<unknown>, warmup: number, samples: number, cpu?: CpuClock): Promise<LatencyStats> {
  for (let i = 0; i < warmup; i++) await call()
  const us = new Array<number>(samples)
  const cpu0 = cpu?.() ?? NaN
  for (let i = 0; i < samples; i++) {
    const t = performance.now()
    await call()
    us[i] = (performance.now() - t) * 1000
  }
  return summarize(us, (cpu?.() ?? NaN) - cpu0)
}

/**
 * Two kinds of call timed in turns, one call of each (which goes first alternates too): both meet the same moments
 * of the machine, so their ratio does not follow a drift of it. Timed one after the other, a few thousand calls each,
 * a ratio of ~1.05 moved between 1.02 and 1.21 from run to run on a shared VM. Only for calls that leave no work
 * behind once answered: a plain REST invoke taking turns with a durable one (whose commit goes on after the answer)
 * took twice as long as on its own.
 */
export async function sequentialPair (a: () => Promise<unknown>, b: () => Promise<unknown>, warmup: number, samples: number): Promise<[LatencyStats, LatencyStats]> {
  for (let i = 0; i < warmup; i++) {
    await a()
    await b()
  }
  const us = { a: new Array<number>(samples), b: new Array<number>(samples) }
  const timed = async (which: 'a' | 'b', i: number): Promise<void> => {
    const t = performance.now()
    await (which === 'a' ? a() : b())
    us[which][i] = (performance.now() - t) * 1000
  }
  for (let i = 0; i < samples; i++) {
    await timed(i % 2 === 0 ? 'a' : 'b', i)
    await timed(i % 2 === 0 ? 'b' : 'a', i)
  }
  return [summarize(us.a), summarize(us.b)]
}

/** The same for a synchronous call: awaiting it would add a microtask turn that no caller of a direct call pays. */
export function sequentialSync (call: () => unknown, warmup: number, samples: number): LatencyStats {
  for (let i = 0; i < warmup; i++) call()
  const us = new Array<number>(samples)
  const cpu0 = ownCpu()
  for (let i = 0; i < samples; i++) {
    const t = performance.now()
    call()
    us[i] = (performance.now() - t) * 1000
  }
  return summarize(us, ownCpu() - cpu0)
}
