import { spawn } from 'node:child_process'
import { ready, serve } from '../lib/child.js'
import { sequential, type LatencyStats } from '../lib/latency.js'

/**
 * The capsules bench's baseline: `spawn('true')` to its exit, timed in a small process of its own. Forking copies
 * the parent's page tables, so a spawn from the bench's own process (grown by every bench before it) took from
 * 3 to 18 ms depending on what ran first; Colony's exec server, which the capsule side goes through, is small too.
 */
export interface SpawnArgs { warmup: number, samples: number }
export interface SpawnerInfo { pid: number }

function bareSpawn (): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('true', [], { stdio: 'ignore' })
    child.once('error', reject)
    child.once('exit', () => resolve())
  })
}

serve({
  spawns: async (a): Promise<LatencyStats> => {
    const args = a as SpawnArgs
    return await sequential(bareSpawn, args.warmup, args.samples)
  },
}, () => {})

ready({ pid: process.pid } satisfies SpawnerInfo)
