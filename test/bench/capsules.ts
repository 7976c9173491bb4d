import { HttpClient } from './lib/http-client.js'
import { combine, sequential, summarize, type LatencyStats } from './lib/latency.js'
import { procSample, Scope, startWorker } from './lib/proc.js'
import { median, type Bench, type Table, type Verdict } from './lib/report.js'
import type { ColonyInfo } from './workers/colony.js'
import type { SpawnArgs } from './workers/spawner.js'

/**
 * Capsules (`npm run bench -- capsules`), against a real Colony in its own process (namespace driver: bubblewrap,
 * overlayfs, cgroups):
 *  - create-to-first-exec: `POST /v1/capsules` then `POST .../exec {cmd: "true"}`, against a bare
 *    `child_process.spawn('true')` to its exit in a small process of its own (`workers/spawner.ts`), in the same run;
 *  - exec round trip on a running capsule (REST exec of `true`) against the same bare spawn;
 *  - 100 capsules alive at once: memory per idle capsule (its cgroup's memory plus Colony's own growth), and the
 *    time to pause, then resume, all of them (8 requests in flight).
 */
const CREATES = 30
const EXEC_WARMUP = 20
const EXECS = 200
const FLEET = 100
const IN_FLIGHT = 8
const JSON_TYPE = { 'content-type': 'application/json' }

async function post (http: HttpClient, url: string, body: unknown, expect: number): Promise<any> {
  const r = body === undefined
    ? await http.send('POST', url, Buffer.alloc(0), {})
    : await http.send('POST', url, Buffer.from(JSON.stringify(body)), JSON_TYPE)
  if (r.status !== expect) throw new Error(`POST ${url} answered ${r.status}: ${r.body.toString('utf8').slice(0, 300)}`)
  return r.body.length === 0 ? undefined : JSON.parse(r.body.toString('utf8'))
}

async function destroy (http: HttpClient, base: string, id: string): Promise<void> {
  const r = await http.send('DELETE', `${base}/v1/capsules/${id}`, Buffer.alloc(0), {})
  if (r.status !== 204) throw new Error(`DELETE answered ${r.status}`)
}

/** Runs `work` over `items`, `n` at a time. */
async function pool<T> (items: T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await work(items[next++] as T)
  }))
}

export const capsulesBench: Bench = {
  name: 'capsules',
  description: 'capsule create-to-first-exec and exec round trip vs a bare spawn; 100 idle capsules: memory each, pause/resume all',
  async run (options) {
    const scope = new Scope()
    const notes: string[] = []
    try {
      const colony = startWorker('colony', 'colony-capsules')
      scope.defer(() => colony.kill())
      const info = await colony.ready<ColonyInfo>()
      const base = info.httpUrl
      const http = new HttpClient()
      scope.defer(() => http.close())
      const spawner = startWorker('spawner', 'spawner')
      scope.defer(() => spawner.kill())
      await spawner.ready()
      const bareSpawns = (warmup: number, samples: number): Promise<LatencyStats> =>
        spawner.request<LatencyStats>('spawns', { warmup, samples } satisfies SpawnArgs)

      const createRounds: LatencyStats[] = []
      const createBare: LatencyStats[] = []
      const execRounds: LatencyStats[] = []
      const execBare: LatencyStats[] = []
      for (let round = 0; round < options.rounds; round++) {
        process.stderr.write(`[bench] capsules: round ${round + 1}/${options.rounds}, create-to-first-exec and exec\n`)
        const samples: number[] = []
        for (let i = 0; i < CREATES; i++) {
          const t0 = performance.now()
          const c = await post(http, `${base}/v1/capsules`, {}, 201)
          await post(http, `${base}/v1/capsules/${c.id}/exec`, { cmd: 'true' }, 200)
          samples.push((performance.now() - t0) * 1000)
          await destroy(http, base, c.id)
        }
        createRounds.push(summarize(samples))
        createBare.push(await bareSpawns(5, CREATES))
        const c = await post(http, `${base}/v1/capsules`, {}, 201)
        execRounds.push(await sequential(() => post(http, `${base}/v1/capsules/${c.id}/exec`, { cmd: 'true' }, 200), EXEC_WARMUP, EXECS))
        execBare.push(await bareSpawns(EXEC_WARMUP, EXECS))
        await destroy(http, base, c.id)
      }
      const create = combine(createRounds)
      const createBase = combine(createBare)
      const exec = combine(execRounds)
      const execBase = combine(execBare)

      process.stderr.write(`[bench] capsules: ${FLEET} capsules alive\n`)
      const rssBefore = procSample(info.pid).rssBytes
      const ids: string[] = []
      const clients = Array.from({ length: IN_FLIGHT }, () => new HttpClient())
      scope.defer(() => { for (const c of clients) c.close() })
      let slot = 0
      const client = (): HttpClient => clients[slot++ % clients.length] as HttpClient
      await pool(Array.from({ length: FLEET }, (_, i) => i), IN_FLIGHT, async () => {
        ids.push((await post(client(), `${base}/v1/capsules`, {}, 201)).id)
      })
      // Two sampler ticks, so every capsule has a memory sample.
      await new Promise((resolve) => setTimeout(resolve, 1500))
      const stats = JSON.parse((await http.send('GET', `${base}/v1/capsules/stats`, Buffer.alloc(0), {})).body.toString('utf8')) as { capsules: Array<{ mem_bytes: number }> }
      const cgroupBytes = stats.capsules.reduce((sum, c) => sum + c.mem_bytes, 0)
      const rssGrowth = Math.max(0, procSample(info.pid).rssBytes - rssBefore)
      const perCapsule = (cgroupBytes + rssGrowth) / FLEET
      const pauseMs: number[] = []
      const resumeMs: number[] = []
      for (let round = 0; round < options.rounds; round++) {
        let t0 = performance.now()
        await pool(ids, IN_FLIGHT, async (id) => { await post(client(), `${base}/v1/capsules/${id}/pause`, undefined, 200) })
        pauseMs.push(performance.now() - t0)
        t0 = performance.now()
        await pool(ids, IN_FLIGHT, async (id) => { await post(client(), `${base}/v1/capsules/${id}/resume`, undefined, 200) })
        resumeMs.push(performance.now() - t0)
      }
      await pool(ids, IN_FLIGHT, async (id) => { await destroy(client(), base, id) })
      if (!await colony.close()) notes.push('the Colony runtime did not exit by itself after close()')
      if (!await spawner.close()) notes.push('the spawner did not exit by itself after close()')

      const ms = (us: number): string => (us / 1000).toFixed(2)
      const tables: Table[] = [
        {
          title: `Latency, ms (median of ${options.rounds} rounds)`,
          columns: ['what', 'p50', 'p99', 'baseline p50 (bare spawn of true)', 'baseline p99'],
          rows: [
            [`create-to-first-exec (${CREATES} per round)`, ms(create.p50Us), ms(create.p99Us), ms(createBase.p50Us), ms(createBase.p99Us)],
            [`exec round trip over REST (${EXECS} per round)`, ms(exec.p50Us), ms(exec.p99Us), ms(execBase.p50Us), ms(execBase.p99Us)],
          ],
        },
        {
          title: `${FLEET} capsules alive`,
          columns: ['memory per idle capsule', 'of which its cgroup', 'pause all (ms)', 'resume all (ms)'],
          rows: [[`${(perCapsule / 1024).toFixed(0)} KiB`, `${(cgroupBytes / FLEET / 1024).toFixed(0)} KiB`, median(pauseMs).toFixed(0), median(resumeMs).toFixed(0)]],
          note: `${IN_FLIGHT} requests in flight; rounds: pause ${pauseMs.map((x) => x.toFixed(0)).join('/')}, resume ${resumeMs.map((x) => x.toFixed(0)).join('/')} ms`,
        },
      ]
      const verdicts: Verdict[] = [
        { name: 'capsule create-to-first-exec p50', ratio: create.p50Us / 1000, targetMax: 50, unit: 'ms', detail: `p99 ${ms(create.p99Us)} ms; E2B and Firecracker sandboxes start in ~150 ms` },
        { name: 'exec overhead over a bare spawn, p50', ratio: (exec.p50Us - execBase.p50Us) / 1000, targetMax: 5, unit: 'ms', detail: `${ms(exec.p50Us)} vs ${ms(execBase.p50Us)} ms` },
        { name: 'exec / bare spawn p50', ratio: exec.p50Us / execBase.p50Us, detail: 'REST, the exec server enters the capsule\'s cgroup and namespaces, argv exec' },
      ]
      return { tables, verdicts, notes }
    } finally {
      await scope.close()
    }
  },
}
