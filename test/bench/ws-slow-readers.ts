/**
 * `npm run build && node dist/test/bench/ws-slow-readers.js [--clients 500] [--actors 200] [--seconds 30] [--cli PATH]`
 *
 * The issue-10 scenario: a real Colony (its own process, heartbeats every 100 ms) with N actors, and M `/ws`
 * clients that finish the handshake and never read again. Prints Colony's RSS before, every few seconds
 * while they hang on, and after they are gone, next to the stream's own gauges. `--cli` runs another build
 * (e.g. an older commit's dist/src/main.js) for comparison. Not part of `npm test`.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { CLI } from '../helpers/cli.js'
import { neverReadingClient } from '../helpers/ws.js'

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '500' },
    actors: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '30' },
    after: { type: 'string', default: '15' },
    cli: { type: 'string', default: CLI },
  },
})
const clients = Number(values.clients)
const actors = Number(values.actors)
const seconds = Number(values.seconds)
const afterS = Number(values.after)

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024

async function scrape (http: string): Promise<Record<string, number>> {
  // A loaded server may close a kept-alive connection just as it is reused: one retry on a fresh one.
  const text = await fetch(`${http}/metrics`).then((r) => r.text()).catch(async () => await fetch(`${http}/metrics`).then((r) => r.text()))
  const out: Record<string, number> = {}
  for (const name of ['colony_ws_clients', 'colony_ws_dropped_total', 'colony_ws_buffered_bytes', 'colony_ws_slow_clients', 'colony_ws_slow_closed_total']) {
    const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text)
    if (m !== null) out[name.replace('colony_ws_', '')] = Number(m[1])
  }
  return out
}
const show = (m: Record<string, number>): string => Object.entries(m).map(([k, v]) => `${k}=${v}`).join(' ')

const dataDir = mkdtempSync(join(tmpdir(), 'colony-ws-slow-'))
const child = spawn(process.execPath, [values.cli, '--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
  env: { PATH: process.env.PATH, COLONY_ACTORS_HEARTBEAT_INTERVAL_MS: '100' },
  stdio: ['ignore', 'pipe', 'inherit'],
})
const exited = new Promise((resolve) => child.once('exit', resolve))
const http = await new Promise<string>((resolve, reject) => {
  createInterface({ input: child.stdout }).on('line', (line) => {
    const url = /REST (http:\/\/\S+)\/api/.exec(line)?.[1]
    if (url !== undefined) resolve(url)
    else console.log(`colony: ${line.slice(0, 300)}`)
  })
  void exited.then(() => reject(new Error('colony exited before it was ready')))
})
const colony = { urls: { http } }
const pid = child.pid as number
const sockets: Socket[] = []
try {
  const kinds = await fetch(`${colony.urls.http}/api/kinds`).then((r) => r.json()) as Array<{ kind: string }> | { kinds: Array<{ kind: string }> }
  const list = Array.isArray(kinds) ? kinds : kinds.kinds
  const kind = list.find((k) => k.kind === 'echo')?.kind ?? list[0]?.kind
  for (let i = 0; i < actors; i++) {
    const res = await fetch(`${colony.urls.http}/api/actors`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind, name: `beat-${i}` }) })
    if (res.status !== 201) throw new Error(`spawn ${i}: ${res.status} ${await res.text()}`)
  }
  await sleep(3000)
  const before = rssMb(pid)
  console.log(`colony pid ${pid} (${values.cli}); ${actors} ${kind} actors beating every 100 ms`)
  console.log(`before: RSS ${before.toFixed(0)} MB`, show(await scrape(colony.urls.http)))

  const ws = colony.urls.http.replace('http://', 'ws://') + '/ws'
  for (let i = 0; i < clients; i++) sockets.push(await neverReadingClient(ws))
  console.log(`${clients} clients connected, none reads`)
  let peak = before
  const started = performance.now()
  while (performance.now() - started < seconds * 1000) {
    await sleep(3000)
    const rss = rssMb(pid)
    peak = Math.max(peak, rss)
    console.log(`t+${((performance.now() - started) / 1000).toFixed(0)} s: RSS ${rss.toFixed(0)} MB`, show(await scrape(colony.urls.http)))
  }
  for (const s of sockets.splice(0)) s.destroy()
  console.log('clients gone')
  for (let t = 0; t < afterS; t += 5) {
    await sleep(5000)
    console.log(`after +${t + 5} s: RSS ${rssMb(pid).toFixed(0)} MB`, show(await scrape(colony.urls.http)))
  }
  console.log(`SUMMARY before ${before.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, after ${rssMb(pid).toFixed(0)} MB`)
} finally {
  for (const s of sockets) s.destroy()
  child.kill('SIGTERM')
  await exited
  rmSync(dataDir, { recursive: true, force: true })
}
