import mqtt from 'mqtt'
import WebSocket from 'ws'
import { startNginx } from '../helpers/nginx.js'
import { which } from './lib/external.js'
import { HttpClient } from './lib/http-client.js'
import { CONNECTIONS, load, measure, type Run } from './lib/http-load.js'
import { combine, sequential, summarize, type LatencyStats } from './lib/latency.js'
import { Scope, startWorker, withTimeout } from './lib/proc.js'
import { median, pairedDiff, pairedRatio, percentile, rotate, roundsOf, type Bench, type Cell, type Verdict } from './lib/report.js'
import type { ColonyInfo } from './workers/colony.js'

/**
 * What nginx in front costs: the same Colony (its own process) reached directly and through Debian's nginx with
 * the configuration scripts/render-nginx.mjs renders, in the same run. REST throughput (wrk, API key) and one
 * request at a time; the /ws heartbeat stream of 1 000 actors read by two clients at once (one direct, one through
 * nginx), compared message for message; and MQTT-over-WebSocket round trips through /mqtt.
 */
const ACTORS = 1000
const HEARTBEAT_MS = 500
const WARMUP_S = 1
const SEQUENTIAL = { warmup: 200, samples: 2000 }
const MQTT_RTT = { warmup: 200, samples: 2000 }

interface Beat { id: string, at: number }

/** A /ws client that keeps, for every heartbeat, the actor, the beat's timestamp and its lateness on arrival. */
class BeatReader {
  readonly beats: Beat[] = []
  readonly lateMs: number[] = []
  private readonly ws: WebSocket

  constructor (url: string, key: string) {
    this.ws = new WebSocket(`${url}?topics=${encodeURIComponent('agents/+/heartbeat')}`, { headers: { 'x-api-key': key } })
    this.ws.on('message', (data: Buffer) => {
      const now = Date.now()
      const { topic, payload } = JSON.parse(data.toString('utf8')) as { topic: string, payload: { timestampMs: number } }
      this.beats.push({ id: topic.split('/')[1] ?? '', at: payload.timestampMs })
      this.lateMs.push(now - payload.timestampMs)
    })
  }

  open (): Promise<void> {
    return withTimeout(new Promise((resolve, reject) => { this.ws.once('open', () => resolve()); this.ws.once('error', reject) }), 10_000, 'ws open')
  }

  /** The beats stamped within [from, to), as `id@timestamp` keys. */
  within (from: number, to: number): Set<string> {
    return new Set(this.beats.filter((b) => b.at >= from && b.at < to).map((b) => `${b.id}@${b.at}`))
  }

  close (): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => { this.ws.once('close', () => resolve()); this.ws.close() })
  }
}

/** Round trips of QoS 0 publishes to a topic the same client subscribed to, one at a time. */
async function mqttRoundTrips (url: string, key: string, topic: string): Promise<LatencyStats> {
  const client = await mqtt.connectAsync(url, { username: 'bench', password: key, reconnectPeriod: 0, connectTimeout: 10_000 })
  try {
    await client.subscribeAsync(topic, { qos: 0 })
    let waiter: (() => void) | undefined
    client.on('message', () => { const w = waiter; waiter = undefined; w?.() })
    const payload = Buffer.from(JSON.stringify({ probe: 'x'.repeat(64) }))
    return await sequential(() => new Promise<void>((resolve) => { waiter = resolve; client.publish(topic, payload) }), MQTT_RTT.warmup, MQTT_RTT.samples)
  } finally {
    await client.endAsync()
  }
}

export const nginxBench: Bench = {
  name: 'nginx',
  description: 'Colony through nginx (the rendered config) vs directly: REST, the /ws stream, MQTT over WebSocket',
  // Latencies through the VM's loopback drift by 2x over minutes (a p50 of 259 µs in one full run, 522 µs in
  // the next): nine short rounds, each pairing nginx with direct, keep a slow stretch from owning the median.
  defaultRounds: 9,
  async run (options) {
    const windowS = options.windowS ?? 5
    const scope = new Scope()
    const notes: string[] = []
    try {
      if (which('nginx') === undefined) throw new Error('nginx is not installed: npm run setup installs it')
      const colony = startWorker('colony', 'colony-nginx', { heartbeatIntervalMs: HEARTBEAT_MS, maxActors: ACTORS + 100 })
      scope.defer(() => colony.kill())
      const info = await colony.ready<ColonyInfo>()
      const nginx = await startNginx({ upstream: `127.0.0.1:${info.httpPort}` })
      scope.defer(() => nginx.stop())
      const nginxPid = nginx.workerPids[0]
      if (nginxPid === undefined) throw new Error('no nginx worker pid in its start-up lines')
      const direct = info.httpUrl
      const proxied = `http://127.0.0.1:${nginx.port}`
      const keyed = { 'x-api-key': info.adminKey }

      // 1. REST throughput, Colony's list of its ~20 system actors + a few (spawned below for the stream).
      const targets: Array<{ name: string, url: string, pids: number[] }> = [
        { name: 'direct', url: `${direct}/api/actors`, pids: [info.pid] },
        { name: 'through nginx', url: `${proxied}/api/actors`, pids: [info.pid, nginxPid] },
      ]
      const generator = which('wrk') !== undefined ? `wrk -t1 -c${CONNECTIONS}` : `node keep-alive generator, ${CONNECTIONS} connections (wrk not installed)`
      for (const t of targets) await load(t.url, WARMUP_S, keyed)
      const runs = new Map<string, Run[]>()
      for (let round = 0; round < options.rounds; round++) {
        for (const t of rotate(targets, round)) {
          process.stderr.write(`[bench] nginx: REST round ${round + 1}/${options.rounds}, ${t.name}\n`)
          runs.set(t.name, [...(runs.get(t.name) ?? []), await measure(t.url, t.pids, windowS, keyed)])
        }
      }
      const restRows: Cell[][] = []
      for (const [name, rs] of runs) {
        const each = (i: number): number => median(rs.map((r) => r.usPerReqEach[i] ?? NaN))
        restRows.push([name, median(rs.map((r) => r.reqPerS)), median(rs.map((r) => r.p50Ms)), median(rs.map((r) => r.p99Ms)),
          each(0), rs[0]?.usPerReqEach.length === 2 ? each(1) : '-', rs.reduce((s, r) => s + r.non2xx + r.errors, 0)])
      }

      // 2. One request at a time on one keep-alive connection: what the hop adds to a single call.
      const single = new Map<string, LatencyStats[]>()
      for (let round = 0; round < options.rounds; round++) {
        for (const t of rotate(targets, round)) {
          const client = new HttpClient()
          try {
            const stats = await sequential(async () => {
              const reply = await client.send('GET', t.url, Buffer.alloc(0), keyed)
              if (reply.status !== 200) throw new Error(`${t.name}: GET /api/actors answered ${reply.status}`)
            }, SEQUENTIAL.warmup, SEQUENTIAL.samples)
            single.set(t.name, [...(single.get(t.name) ?? []), stats])
          } finally {
            client.close()
          }
        }
      }
      const one = (name: string): LatencyStats => combine(single.get(name) ?? [])

      // 3. The heartbeat stream of ACTORS actors, read directly and through nginx at the same time.
      process.stderr.write(`[bench] nginx: spawning ${ACTORS} actors beating every ${HEARTBEAT_MS} ms\n`)
      await colony.request('spawn', { count: ACTORS, prefix: 'nginx-bench-' })
      const readers = { direct: new BeatReader(`${direct.replace('http', 'ws')}/ws`, info.adminKey), nginx: new BeatReader(`${proxied.replace('http', 'ws')}/ws`, info.adminKey) }
      scope.defer(async () => { await readers.direct.close(); await readers.nginx.close() })
      await Promise.all([readers.direct.open(), readers.nginx.open()])
      const streamS = Math.max(windowS, 5)
      // Both clients are subscribed before `from`; the grace after `to` lets the last beats of the window arrive.
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const from = Date.now()
      await new Promise((resolve) => setTimeout(resolve, streamS * 1000))
      const to = Date.now()
      await new Promise((resolve) => setTimeout(resolve, 2000))
      const got = { direct: readers.direct.within(from, to), nginx: readers.nginx.within(from, to) }
      const missing = [...got.direct].filter((k) => !got.nginx.has(k)).length
      const extra = [...got.nginx].filter((k) => !got.direct.has(k)).length
      const lateness = (r: BeatReader): { p50: number, p99: number, max: number } => {
        const s = [...r.lateMs].sort((a, b) => a - b)
        return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s[s.length - 1] ?? NaN }
      }
      const late = { direct: lateness(readers.direct), nginx: lateness(readers.nginx) }
      await readers.direct.close()
      await readers.nginx.close()

      // 4. MQTT over WebSocket round trips (publish -> the broker -> back to the same client).
      const rtts = new Map<string, LatencyStats[]>()
      for (let round = 0; round < options.rounds; round++) {
        for (const [name, base] of round % 2 === 0 ? [['direct', direct], ['through nginx', proxied]] : [['through nginx', proxied], ['direct', direct]]) {
          const stats = await mqttRoundTrips(`${(base as string).replace('http', 'ws')}/mqtt`, info.adminKey, `bench/nginx/${round}`)
          rtts.set(name as string, [...(rtts.get(name as string) ?? []), stats])
        }
      }
      const rtt = (name: string): LatencyStats => combine(rtts.get(name) ?? [summarize([])])

      const p50 = (s: LatencyStats): number => s.p50Us
      const verdicts: Verdict[] = [{
        name: 'REST through nginx / direct req/s',
        ratio: pairedRatio(roundsOf(runs, 'through nginx', (r) => r.reqPerS), roundsOf(runs, 'direct', (r) => r.reqPerS)),
        target: 0.7,
        detail: `GET /api/actors with an API key, ${generator}; nginx's worker spends ${median((runs.get('through nginx') ?? []).map((r) => r.usPerReqEach[1] ?? NaN)).toFixed(1)} µs CPU per request`,
      }, {
        name: 'REST one call at a time: added by nginx, p50',
        ratio: pairedDiff(roundsOf(single, 'through nginx', p50), roundsOf(single, 'direct', p50)),
        unit: 'µs',
        targetMax: 200,
        detail: `${one('through nginx').p50Us.toFixed(0)} vs ${one('direct').p50Us.toFixed(0)} µs p50, p99 ${one('through nginx').p99Us.toFixed(0)} vs ${one('direct').p99Us.toFixed(0)} µs`,
      }, {
        name: '/ws heartbeats through nginx / direct, same window',
        ratio: got.nginx.size / Math.max(1, got.direct.size),
        target: 1,
        detail: `${got.nginx.size} vs ${got.direct.size} beats stamped in ${streamS} s (${ACTORS} actors / ${HEARTBEAT_MS} ms); missing through nginx ${missing}, only through nginx ${extra}; lateness p50/p99/max ${late.nginx.p50}/${late.nginx.p99}/${late.nginx.max} ms vs ${late.direct.p50}/${late.direct.p99}/${late.direct.max} ms`,
      }, {
        // A round trip crosses nginx twice (publish in, message out): the same budget as two REST hops.
        name: 'MQTT over WebSocket round trip: added by nginx, p50',
        ratio: pairedDiff(roundsOf(rtts, 'through nginx', p50), roundsOf(rtts, 'direct', p50)),
        unit: 'µs',
        targetMax: 200,
        detail: `${rtt('through nginx').p50Us.toFixed(0)} vs ${rtt('direct').p50Us.toFixed(0)} µs p50 (x${(rtt('through nginx').p50Us / rtt('direct').p50Us).toFixed(2)}), p99 ${rtt('through nginx').p99Us.toFixed(0)} vs ${rtt('direct').p99Us.toFixed(0)} µs`,
      }]
      if (!await colony.close()) notes.push('the Colony runtime did not exit by itself after close()')
      return {
        tables: [{
          title: `GET /api/actors, ${generator}, ${windowS} s per run, median of ${options.rounds}`,
          columns: ['path', 'req/s', 'p50 ms', 'p99 ms', 'Colony µs CPU/req', 'nginx µs CPU/req', 'errors'],
          rows: restRows,
        }, {
          title: `one call at a time (µs), ${SEQUENTIAL.samples} calls x ${options.rounds}, and MQTT/WS round trips`,
          columns: ['call', 'path', 'p50', 'p99', 'mean'],
          rows: [
            ...['direct', 'through nginx'].map((n) => ['GET /api/actors', n, one(n).p50Us, one(n).p99Us, one(n).meanUs]),
            ...['direct', 'through nginx'].map((n) => ['MQTT publish -> own subscription', n, rtt(n).p50Us, rtt(n).p99Us, rtt(n).meanUs]),
          ],
        }],
        verdicts,
        notes,
      }
    } finally {
      await scope.close()
    }
  },
}
