/**
 * How fast this machine runs the same JavaScript right now. The hypervisor's steal count misses a core that runs
 * slower without being taken away (another guest on its hyperthread sibling, a lower clock): every process of a
 * bench then spends more CPU per message, baselines included. Ratios between contenders measured in the same
 * rounds cancel that out; absolute figures (% of a core, µs) do not. Timing one fixed piece of work before and
 * after each bench says whether two runs ran on an equally fast machine.
 */

/** A heartbeat-sized object: the work is what the runtime and its subscribers do most (serialize, copy, parse). */
const SAMPLE = {
  agentId: '6f1c2a9e-0d4b-4a7e-9b3f-2c8d1e5a7b60',
  agentName: 'bench-echo-0042',
  state: 'running',
  timestampMs: 1_765_000_000_000,
  mailbox: { depth: 0, capacity: 1000 },
  labels: { kind: 'echo', team: 'bench' },
}
const ITERATIONS = 5_000
const BATCHES = 7
const WARMUP_BATCHES = 3

/** One batch: ITERATIONS round trips of SAMPLE; returns their CPU ns per iteration and adds to `sink`. */
function batch (sink: { sum: number }): number {
  const t0 = process.cpuUsage()
  for (let i = 0; i < ITERATIONS; i++) {
    const text = JSON.stringify({ ...SAMPLE, timestampMs: SAMPLE.timestampMs + i })
    sink.sum += (JSON.parse(Buffer.from(text, 'utf8').toString('utf8')) as { timestampMs: number }).timestampMs - SAMPLE.timestampMs
  }
  const dt = process.cpuUsage(t0)
  return ((dt.user + dt.system) * 1000) / ITERATIONS
}

/**
 * CPU time, in ns per iteration, of stringifying, copying into a Buffer and parsing SAMPLE: the median of BATCHES
 * batches after WARMUP_BATCHES untimed ones (JIT warm-up). Measured in this process's CPU time (`process.cpuUsage` of an
 * otherwise idle bench process), so waiting for a core does not count, a slower core does. ~100 ms in all. The loop
 * is a plain top-level function: written as a closure made anew per call, its cost sat at 3.2 µs with stretches at
 * 2.1 in one quiet process, which is V8, not the machine; as it is, 30 calls in a row on a quiet machine read 2.0 ± 5 %.
 */
export function referenceWorkNs (): number {
  const sink = { sum: 0 }
  for (let b = 0; b < WARMUP_BATCHES; b++) batch(sink)
  const times: number[] = []
  for (let b = 0; b < BATCHES; b++) times.push(batch(sink))
  // The sum of 0..ITERATIONS-1 per batch: a check that the loop ran and was not optimized away.
  if (sink.sum !== ((BATCHES + WARMUP_BATCHES) * ITERATIONS * (ITERATIONS - 1)) / 2) throw new Error('reference work miscounted')
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] as number
}
