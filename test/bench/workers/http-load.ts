import { Agent, request } from 'node:http'
import { argument } from '../lib/child.js'

/**
 * The fallback load generator when `wrk` is not installed: `connections` keep-alive connections, each
 * sending its next GET as soon as the previous response has been read, for `durationMs`. It runs in its own
 * process and prints one JSON line with the counts, then ends.
 */
export interface LoadArgs { url: string, connections: number, durationMs: number, headers?: Record<string, string> }
/** cpuUs: this generator's own CPU over the run, so its cost is reported next to the server's. */
export interface LoadResult { requests: number, non2xx: number, errors: number, bytes: number, elapsedMs: number, cpuUs: number }

const { url, connections, durationMs, headers = {} } = argument<LoadArgs>()
const agent = new Agent({ keepAlive: true, maxSockets: connections })
const result: LoadResult = { requests: 0, non2xx: 0, errors: 0, bytes: 0, elapsedMs: 0, cpuUs: 0 }
const cpu0 = process.cpuUsage()
const started = performance.now()
const deadline = started + durationMs

function once (): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, { agent, headers }, (res) => {
      res.on('data', (chunk: Buffer) => { result.bytes += chunk.length })
      res.on('end', () => {
        result.requests++
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) result.non2xx++
        resolve()
      })
    })
    req.on('error', () => { result.errors++; resolve() })
    req.end()
  })
}

async function loop (): Promise<void> {
  while (performance.now() < deadline) await once()
}

await Promise.all(Array.from({ length: connections }, () => loop()))
result.elapsedMs = performance.now() - started
const cpu = process.cpuUsage(cpu0)
result.cpuUs = cpu.user + cpu.system
agent.destroy()
process.stdout.write(`${JSON.stringify(result)}\n`)
