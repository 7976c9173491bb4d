import { get } from 'node:http'
import { which } from './lib/external.js'
import { CONNECTIONS, load, measure, type Run } from './lib/http-load.js'
import { Scope, startWorker } from './lib/proc.js'
import { median, pairedRatio, pct, rotate, roundRatios, spread, type Bench, type Cell, type Verdict } from './lib/report.js'
import type { BareHttpInfo } from './workers/http-bare.js'
import type { ColonyInfo } from './workers/colony.js'

/**
 * `GET /api/actors` on a real Colony with ~100 actors vs a bare `node:http` server (also in its own process)
 * answering the very bytes Colony returned, same content type. Both are loaded by the same generator
 * (wrk, or a node keep-alive generator in its own process when wrk is missing) for the same time and
 * concurrency; each round starts with a different one. CPU per request is read for the server and the generator.
 */
const ACTORS = 100
const WARMUP_S = 1

interface Response { status: number, contentType: string, body: Buffer }

function fetchOnce (url: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    // No keep-alive agent: nothing of ours may stay connected to the servers and keep a process alive.
    get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: Buffer.concat(chunks) }))
    }).on('error', reject)
  })
}

export const httpBench: Bench = {
  name: 'http',
  description: `GET /api/actors with ${ACTORS} actors vs bare node:http serving the same bytes`,
  async run (options) {
    const windowS = options.windowS ?? 4
    const scope = new Scope()
    const notes: string[] = []
    try {
      const colony = startWorker('colony', 'colony-http')
      scope.defer(() => colony.kill())
      const info = await colony.ready<ColonyInfo>()
      await colony.request('spawn', { count: ACTORS, prefix: 'bench-' })
      const colonyUrl = `${info.httpUrl}/api/actors`
      const reference = await fetchOnce(colonyUrl)
      if (reference.status !== 200) throw new Error(`GET /api/actors answered ${reference.status}`)

      const bare = startWorker('http-bare', 'bare-http')
      scope.defer(() => bare.kill())
      await bare.ready()
      const served = await bare.request<BareHttpInfo>('serve', { bodyBase64: reference.body.toString('base64'), contentType: reference.contentType })
      const bareUrl = `http://127.0.0.1:${served.port}/api/actors`
      const check = await fetchOnce(bareUrl)
      if (!check.body.equals(reference.body) || check.contentType !== reference.contentType) throw new Error('bare server does not answer the same bytes')

      // The same request anonymously (loopback development mode, the local admin) and with the admin's API key:
      // the same body, so the difference is the cost of checking the key.
      const keyed = { 'x-api-key': info.adminKey }
      const targets: Array<{ name: string, url: string, pid: number, headers?: Record<string, string> }> = [
        { name: 'bare node:http', url: bareUrl, pid: served.pid },
        { name: 'Colony /api/actors', url: colonyUrl, pid: info.pid },
        { name: 'Colony /api/actors + API key', url: colonyUrl, pid: info.pid, headers: keyed },
      ]
      const generator = which('wrk') !== undefined ? `wrk -t1 -c${CONNECTIONS}` : `node keep-alive generator, ${CONNECTIONS} connections (wrk not installed)`
      if (which('wrk') === undefined) notes.push('wrk is not installed (scripts/bench-deps.sh): used the node load generator, which saturates earlier')
      for (const t of targets) await load(t.url, WARMUP_S, t.headers) // JIT warm-up, not measured
      const runs = new Map<string, Run[]>()
      for (let round = 0; round < options.rounds; round++) {
        for (const t of rotate(targets, round)) {
          process.stderr.write(`[bench] http: round ${round + 1}/${options.rounds}, ${t.name}\n`)
          runs.set(t.name, [...(runs.get(t.name) ?? []), await measure(t.url, [t.pid], windowS, t.headers)])
        }
      }

      const rows: Cell[][] = []
      for (const [name, rs] of runs) {
        rows.push([name, spread(rs.map((r) => r.reqPerS)), median(rs.map((r) => r.p50Ms)), median(rs.map((r) => r.p99Ms)),
          pct(median(rs.map((r) => r.cpuPct))), spread(rs.map((r) => r.usPerReq)), spread(rs.map((r) => r.generatorUsPerReq)),
          rs.reduce((s, r) => s + r.non2xx + r.errors, 0)])
      }
      const rps = (name: string): number[] => (runs.get(name) ?? []).map((r) => r.reqPerS)
      const costs = (name: string): number[] => (runs.get(name) ?? []).map((r) => r.usPerReq)
      const cost = (name: string): number => median(costs(name))
      const verdicts: Verdict[] = [{
        name: 'Colony GET /api/actors / bare node:http req/s',
        ratio: pairedRatio(rps('Colony /api/actors'), rps('bare node:http')),
        target: 0.7,
        detail: `${reference.body.length} byte body, ${ACTORS} echo actors + system actors, ${generator} ` +
          `(${roundRatios(rps('Colony /api/actors'), rps('bare node:http'))})`,
      }, {
        // On 2 cores neither server may reach 100 % (the generator and the kernel's loopback copies share them),
        // so requests per server CPU-second is the steadier comparison of the two request paths.
        name: 'Colony / bare node:http requests per server CPU-second',
        ratio: pairedRatio(costs('bare node:http'), costs('Colony /api/actors')),
        detail: `${cost('Colony /api/actors').toFixed(1)} vs ${cost('bare node:http').toFixed(1)} µs of server CPU per request`,
      }, {
        name: 'Colony with an API key / without credentials req/s',
        ratio: pairedRatio(rps('Colony /api/actors + API key'), rps('Colony /api/actors')),
        target: 0.9,
        detail: `the key check costs ${(cost('Colony /api/actors + API key') - cost('Colony /api/actors')).toFixed(1)} µs of server CPU per request`,
      }]
      if (!await bare.close()) notes.push('the bare HTTP server did not exit by itself')
      if (!await colony.close()) notes.push('the Colony runtime did not exit by itself after close()')
      return {
        tables: [{
          title: `GET /api/actors (${reference.body.length} bytes), ${generator}, ${windowS} s per run, median of ${options.rounds}`,
          columns: ['server', 'req/s', 'p50 ms', 'p99 ms', 'server CPU', 'server µs/req', 'generator µs/req', 'errors'],
          rows,
          note: 'req/s and µs/req: median (min..max) of the rounds; µs/req: CPU (user + system) per request of the server process ' +
            'and of the load generator. errors: non-2xx answers and socket errors, all rounds.',
        }],
        verdicts,
        notes,
      }
    } finally {
      await scope.close()
    }
  },
}
