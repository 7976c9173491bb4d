import { execFile } from 'node:child_process'
import { runWrk, which } from './external.js'
import { procSample } from './proc.js'
import type { LoadArgs, LoadResult } from '../workers/http-load.js'

/** Keep-alive connections of every HTTP throughput measurement. */
export const CONNECTIONS = 32

/**
 * One throughput run, and the CPU the serving processes spent on it: in all (`cpuPct` of one core, `usPerReq`) and
 * per process (`usPerReqEach`, in the order of the pids measured).
 */
export interface Run {
  reqPerS: number
  non2xx: number
  errors: number
  p50Ms: number
  p99Ms: number
  /** CPU of the load generator itself (wrk, or the node generator) per request. */
  generatorUsPerReq: number
  cpuPct: number
  usPerReq: number
  usPerReqEach: number[]
}

/**
 * Loads `url` for `durationS` with CONNECTIONS keep-alive connections: wrk when installed, else a node keep-alive
 * generator in its own process (which saturates earlier; no latency percentiles).
 */
export async function load (url: string, durationS: number, headers: Record<string, string> = {}): Promise<Omit<Run, 'cpuPct' | 'usPerReq' | 'usPerReqEach'>> {
  if (which('wrk') !== undefined) {
    const w = await runWrk(url, CONNECTIONS, durationS, headers)
    return { reqPerS: w.requestsPerSec, non2xx: w.non2xx, errors: w.socketErrors, p50Ms: w.p50Ms, p99Ms: w.p99Ms, generatorUsPerReq: w.cpuUs / w.requests }
  }
  const args: LoadArgs = { url, connections: CONNECTIONS, durationMs: durationS * 1000, headers }
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, [new URL('../workers/http-load.js', import.meta.url).pathname, JSON.stringify(args)],
      { timeout: (durationS + 30) * 1000 }, (err, stdout) => { if (err !== null) reject(new Error(err.message, { cause: err })); else resolve(stdout) })
  })
  const r = JSON.parse(out) as LoadResult
  return { reqPerS: r.requests / (r.elapsedMs / 1000), non2xx: r.non2xx, errors: r.errors, p50Ms: NaN, p99Ms: NaN, generatorUsPerReq: r.cpuUs / r.requests }
}

/** One measured run of `load`, with the CPU of the processes `pids` (the server, and a proxy in front of it). */
export async function measure (url: string, pids: number[], durationS: number, headers?: Record<string, string>): Promise<Run> {
  const a = pids.map((pid) => procSample(pid).cpuUs)
  const started = performance.now()
  const r = await load(url, durationS, headers)
  const b = pids.map((pid) => procSample(pid).cpuUs)
  const seconds = (performance.now() - started) / 1000
  const each = b.map((us, i) => us - (a[i] ?? 0))
  const cpuUs = each.reduce((s, us) => s + us, 0)
  const requests = r.reqPerS * seconds
  return { ...r, cpuPct: cpuUs / 1e6 / seconds, usPerReq: cpuUs / requests, usPerReqEach: each.map((us) => us / requests) }
}

