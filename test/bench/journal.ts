import { startWorker } from './lib/proc.js'
import type { Bench, BenchReport } from './lib/report.js'

/**
 * The host-call journal of durable workers (`workers/journal.ts` measures it): what recording costs per call, and
 * how fast a recovery replays recorded calls, one call() round trip each against one replayBatch message.
 *
 * It runs in a process of its own. In the bench's process, after the benches before it, the call() round trips
 * ran at 10 114 replayed calls/s in one full run and 5 447 in the next (and 2 755 against 5 654 for the counter),
 * while the same bench alone ran at 7 400-10 400 every time: a worker thread's round trip followed what the
 * benches before it had left in that process.
 */
export const journalBench: Bench = {
  name: 'journal',
  description: 'durable-worker host-call journal: record overhead per call, replayBatch vs call() round trips',
  // Per-call differences of ~10-70 µs on calls of ~100-500 µs, and replays whose round-by-round ratio spans
  // 2.0-4.4 on this VM: eleven rounds, where seven still moved medians by up to 25 % between runs.
  defaultRounds: 11,
  async run (options) {
    const worker = startWorker('journal', 'journal')
    try {
      await worker.ready()
      const report = await worker.request<BenchReport>('run', { rounds: options.rounds }, 60 * 60_000)
      // IPC carries JSON, where a ratio that could not be measured (NaN) arrives as null.
      for (const v of report.verdicts) v.ratio ??= NaN
      if (!await worker.close()) report.notes.push('the journal worker did not exit by itself')
      return report
    } finally {
      worker.kill()
    }
  },
}
