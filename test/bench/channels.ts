import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { createRuntime, type Runtime } from '../../src/runtime.js'
import { BOOT, BRIDGES, KINDS, loadConfig } from '../../src/assembly.js'
import { topics } from '../../src/wire/topics.js'
import { combine, summarize, type LatencyStats } from './lib/latency.js'
import { median, pairedRatio, rotate, spread, type Bench, type Table, type Verdict } from './lib/report.js'

/**
 * Notification channels (`npm run bench -- channels`), on a real runtime (in this process, its store a real SQLite
 * file with synchronous=FULL) and a real local HTTP receiver:
 *  - alert-to-webhook latency: an actor's alert on the bus (as `ctx.alert` publishes it) until the signed webhook
 *    request reaches the receiver, against the baseline of POSTing the same body directly to the same receiver;
 *  - a burst of 1 000 alerts to 2 webhook channels: deliveries/s against POSTing the same 2 000 bodies directly
 *    (16 connections, as the dispatcher's agent), every delivery counted by its X-Wrenn-Delivery id (exactly once
 *    per channel);
 *  - the same burst with Colony closed right after it and started again on the same data dir: none lost.
 * Contenders' order rotates each round.
 */
const LATENCY_SAMPLES = 200
const BURST = 1000
const CHANNELS = 2

/** Counts requests by delivery id; resolves waiters on arrival (no polling). */
class Sink {
  readonly byChannel = new Map<string, Map<string, number>>()
  total = 0
  private waiters: Array<{ test: () => boolean, resolve: () => void }> = []
  private onBody: ((body: string) => void) | undefined
  private server: http.Server | undefined
  url = ''

  async start (): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        this.total++
        const id = req.headers['x-wrenn-delivery']
        if (typeof id === 'string') {
          const channel = req.url ?? ''
          const ids = this.byChannel.get(channel) ?? new Map<string, number>()
          ids.set(id, (ids.get(id) ?? 0) + 1)
          this.byChannel.set(channel, ids)
        }
        this.onBody?.(body)
        res.end()
        this.waiters = this.waiters.filter((w) => { if (!w.test()) return true; w.resolve(); return false })
      })
    })
    this.server.keepAliveTimeout = 60_000
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  reset (): void {
    this.byChannel.clear()
    this.total = 0
  }

  /** Resolves the first time `test` holds after a request (or now). */
  until (test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ test, resolve }))
  }

  /** The next request whose body satisfies `match`. */
  nextBody (match: (body: string) => boolean): Promise<void> {
    return new Promise((resolve) => {
      this.onBody = (body) => { if (match(body)) { this.onBody = undefined; resolve() } }
    })
  }

  distinct (): number {
    let n = 0
    for (const ids of this.byChannel.values()) n += ids.size
    return n
  }

  duplicates (): number {
    let n = 0
    for (const ids of this.byChannel.values()) for (const c of ids.values()) n += c - 1
    return n
  }

  async close (): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
  }
}

async function start (dataDir: string): Promise<Runtime> {
  const config = loadConfig({ env: {}, overrides: { http: { port: 0 }, mqtt: { port: 0 }, data: { dir: dataDir }, log: { level: 'warn' }, auth: { scryptN: 4096 } } })
  return await createRuntime(config, { kinds: KINDS, boot: BOOT, bridges: BRIDGES, logDestination: { write: () => undefined } })
}

async function json (method: string, url: string, body: unknown, token?: string): Promise<any> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) }, body: JSON.stringify(body) })
  const text = await res.text()
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`)
  return JSON.parse(text)
}

function alert (rt: Runtime, actorId: string, message: string): void {
  rt.broker.bus.publish(topics.alert(actorId), { agentId: actorId, severity: 'error', message, timestampMs: Date.now() })
}

/** The baseline client: the same bodies POSTed straight to the receiver over kept-alive connections. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
function postDirect (url: string, body: string, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-wrenn-delivery': id } }, (res) => {
      res.resume()
      res.once('end', () => resolve())
    })
    req.once('error', reject)
    req.end(body)
  })
}

export const channelsBench: Bench = {
  name: 'channels',
  description: 'alert-to-webhook latency and deliveries/s vs posting the same bodies directly; 1 000-alert burst exactly once per channel, none lost across a restart',
  // A round takes two seconds; nine of them keep one slow stretch of the loopback from owning the median.
  defaultRounds: 9,
  async run (options) {
    const dataDir = mkdtempSync(join(tmpdir(), 'colony-bench-channels-'))
    const sink = new Sink()
    await sink.start()
    let rt = await start(dataDir)
    const notes: string[] = []
    try {
      const who = await json('POST', `${rt.urls.http}/v1/auth/signup`, { email: 'bench@example.test', password: 'bench-password-1', name: 'bench' })
      for (let c = 0; c < CHANNELS; c++) {
        await json('POST', `${rt.urls.http}/v1/channels`, { name: `hook-${c}`, provider: 'webhook', config: { url: `${sink.url}/ch${c}` }, events: ['actor.alert'] }, who.token)
      }
      // One channel for latency: the second is muted meanwhile, so one alert is one request.
      const actor = await rt.system.spawn('echo', { name: 'bench-actor', team: who.team_id })
      const sample = JSON.stringify({ event: 'actor.alert', timestamp: new Date().toISOString(), team_id: who.team_id, actor: { type: 'system' }, resource: { id: actor.id, type: 'actor' }, agent: { name: 'bench-actor', type: 'echo' }, alert: { severity: 'error', message: 'latency 0' } })

      const viaColony: LatencyStats[] = []
      const direct: LatencyStats[] = []
      const colonyRate: number[] = []
      const directRate: number[] = []
      const dupes: number[] = []
      const commits: number[] = []
      let seq = 0
      for (let round = 0; round < options.rounds; round++) {
        process.stderr.write(`[bench] channels: round ${round + 1}/${options.rounds}\n`)
        rt.services.channels.mute(who.team_id, 'hook-1', 60)
        for (const contender of rotate(['colony', 'direct'] as const, round)) {
          const samples: number[] = []
          for (let i = 0; i < LATENCY_SAMPLES + 10; i++) {
            const message = `latency ${++seq}`
            const arrived = sink.nextBody((b) => b.includes(`"${message}"`))
            const t0 = performance.now()
            if (contender === 'colony') alert(rt, actor.id, message)
            else await postDirect(`${sink.url}/direct`, sample.replace('latency 0', message), `d-${seq}`)
            await arrived
            if (i >= 10) samples.push((performance.now() - t0) * 1000)
          }
          ;(contender === 'colony' ? viaColony : direct).push(summarize(samples))
        }
        rt.services.channels.unmute(who.team_id, 'hook-1')
        for (const contender of rotate(['colony', 'direct'] as const, round)) {
          sink.reset()
          const t0 = performance.now()
          if (contender === 'colony') {
            const before = rt.services.channels.outbox.stats.commits
            for (let i = 0; i < BURST; i++) alert(rt, actor.id, `burst ${round}-${i}`)
            await sink.until(() => sink.distinct() >= BURST * CHANNELS)
            colonyRate.push((BURST * CHANNELS) / ((performance.now() - t0) / 1000))
            dupes.push(sink.duplicates())
            commits.push(rt.services.channels.outbox.stats.commits - before)
            for (const [channel, ids] of sink.byChannel) if (ids.size !== BURST) throw new Error(`${channel} got ${ids.size} of ${BURST}`)
          } else {
            const bodies = Array.from({ length: BURST * CHANNELS }, (_, i) => sample.replace('latency 0', `burst ${round}-${i}`))
            let next = 0
            await Promise.all(Array.from({ length: 16 }, async () => {
              while (next < bodies.length) { const i = next++; await postDirect(`${sink.url}/direct`, bodies[i] as string, `b-${round}-${i}`) }
            }))
            directRate.push(bodies.length / ((performance.now() - t0) / 1000))
          }
        }
      }

      // A burst, then Colony closed at once and started again on the same data dir: the outbox has the rest.
      process.stderr.write('[bench] channels: burst then restart\n')
      sink.reset()
      for (let i = 0; i < BURST; i++) alert(rt, actor.id, `restart ${i}`)
      await rt.broker.bus.drained()
      const deliveredBeforeClose = sink.distinct()
      const t0 = performance.now()
      await rt.close()
      const pendingAtClose = sink.distinct()
      rt = await start(dataDir)
      await sink.until(() => sink.distinct() >= BURST * CHANNELS)
      const restartMs = performance.now() - t0
      for (const [channel, ids] of sink.byChannel) if (ids.size !== BURST) throw new Error(`after the restart ${channel} got ${ids.size} of ${BURST}`)
      notes.push(`restart: ${deliveredBeforeClose} of ${BURST * CHANNELS} delivered when close() began, ${pendingAtClose} when it ended; all ${sink.distinct()} by ${restartMs.toFixed(0)} ms after (${sink.duplicates()} sent twice: in flight at the close, resent with the same delivery id)`)

      const c = combine(viaColony)
      const d = combine(direct)
      const ms = (us: number): string => (us / 1000).toFixed(2)
      const tables: Table[] = [
        {
          title: `Alert to webhook, ms (${LATENCY_SAMPLES} per round, median of ${options.rounds} rounds)`,
          columns: ['what', 'p50', 'p99'],
          rows: [
            ['alert on the bus -> signed webhook at the receiver (outbox commit first)', ms(c.p50Us), ms(c.p99Us)],
            ['baseline: POST the same body to the same receiver', ms(d.p50Us), ms(d.p99Us)],
          ],
        },
        {
          title: `Burst of ${BURST} alerts to ${CHANNELS} webhook channels`,
          columns: ['what', 'per second (median (min..max))'],
          rows: [
            ['deliveries via Colony (distinct delivery ids)', spread(colonyRate)],
            ['baseline: the same bodies POSTed directly, 16 connections', spread(directRate)],
          ],
          note: `outbox commits per burst: ${commits.join('/')} (enqueues, retries and completions group-committed); duplicates: ${dupes.join('/')}`,
        },
      ]
      const verdicts: Verdict[] = [
        { name: 'alert-to-webhook p50 / direct POST p50', ratio: pairedRatio(viaColony.map((r) => r.p50Us), direct.map((r) => r.p50Us)), detail: `${ms(c.p50Us)} vs ${ms(d.p50Us)} ms; p99 ${ms(c.p99Us)} vs ${ms(d.p99Us)} ms` },
        { name: 'channel deliveries/s / direct POSTs/s', ratio: pairedRatio(colonyRate, directRate), detail: `${median(colonyRate).toFixed(0)} vs ${median(directRate).toFixed(0)} per s` },
        { name: 'burst delivered exactly once per channel', ratio: dupes.every((x) => x === 0) ? 1 : 0, target: 1, detail: `${BURST} of ${BURST} per channel in every round, duplicates ${dupes.join('/')}` },
      ]
      return { tables, verdicts, notes }
    } finally {
      await rt.close()
      await sink.close()
      agent.destroy()
      rmSync(dataDir, { recursive: true, force: true })
    }
  },
}
