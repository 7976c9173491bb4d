import { connect, createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node'
import { startNatsServer } from '../helpers/nats-server.js'
import { combine, ownCpu, sequential, type LatencyStats } from './lib/latency.js'
import { procSample, Scope, sleep, startWorker, withTimeout } from './lib/proc.js'
import { median, pairedRatio, pct, rotate, roundsOf, type Bench, type Cell, type Verdict } from './lib/report.js'
import type { ChurnArgs, ChurnResult, ColonyArgs, ColonyInfo } from './workers/colony.js'
import type { NatsEchoArgs, NatsEchoInfo } from './workers/nats-echo.js'

/**
 * The NATS bridge against a real `nats-server` (on a port it picks) and a real Colony in its own process that joined
 * the lattice. (1) Control round trips, one request in flight from this process: `host.get.{hostId}` (inventory)
 * and `host.ping` (first reply) vs a bare nats.js responder in its own process answering the very bytes Colony
 * answered, on the same server, alternating order per round. (2) CloudEvents the bridge publishes on
 * `wasmbus.evt.default.*`, counted by a subscriber here: while the Colony churns echo actors (spawn, delete) and
 * while this process sends `label.put` commands, each event matched to what caused it, so a lost one is seen.
 */
const WARMUP = 300
const SAMPLES = 2000
const LATTICE = 'default'
const CTL = `wasmbus.ctl.v1.${LATTICE}`
const EVT = `wasmbus.evt.${LATTICE}`
/** Echo actors spawned and deleted per round, and how many at a time. */
const CHURN = 4000
const CHURN_LANES = 50
/** Warm-up cycles, unmeasured: they also tell which statuses (events) one cycle produces. */
const CHURN_WARMUP = 200
/** `label.put` commands per round, and how many in flight. */
const LABELS = 16_000
const LABEL_LANES = 64
/** How long after the last event a phase that is still short of events is given up. */
const QUIET_MS = 3000
const SUCCESS = /"success":true/
/** The churn warm-up does not know how many events to expect: it ends once they stop. */
const WARMUP_QUIET_MS = 500

type Key = 'get' | 'echoGet' | 'ping' | 'echoPing'
const PATHS: Record<Key, string> = {
  get: 'Colony host.get.{hostId} (inventory)',
  echoGet: 'bare nats.js responder, the inventory bytes',
  ping: 'Colony host.ping (first reply)',
  echoPing: 'bare nats.js responder, the ping bytes',
}

interface CtlReply { success?: boolean, message?: string, response?: { id?: string } }
interface LatticeEvent { type?: string, data?: { name?: string, state?: string, labels?: Record<string, string> } }

/** What the subscriber on `wasmbus.evt.default.*` has seen since the last reset. */
class EventTally {
  /** Churned actor name -> the states its `actor_state_changed` events carried, in arrival order. */
  readonly states = new Map<string, string[]>()
  /** `bench` label values carried by `labels_changed` events. */
  readonly labelValues = new Set<string>()
  matched = 0
  other = 0
  malformed = 0
  lastAtMs = 0

  constructor (private readonly churnPrefix: string, private readonly labelPrefix: string) {}

  take (msg: Msg): void {
    this.lastAtMs = performance.now()
    let ev: LatticeEvent
    try {
      ev = msg.json<LatticeEvent>()
    } catch {
      this.malformed++
      return
    }
    const name = msg.subject.slice(EVT.length + 1)
    if (ev.type !== `com.wasmcloud.lattice.${name}`) this.malformed++
    const data = ev.data ?? {}
    if (name === 'actor_state_changed' && data.name?.startsWith(this.churnPrefix) === true) {
      this.matched++
      const seen = this.states.get(data.name)
      if (seen === undefined) this.states.set(data.name, [String(data.state)])
      else seen.push(String(data.state))
    } else if (name === 'labels_changed' && data.labels?.bench?.startsWith(this.labelPrefix) === true) {
      this.matched++
      this.labelValues.add(data.labels.bench)
    } else this.other++
  }
}

interface EventRun {
  expected: number
  received: number
  /** Causes (actor cycles, label puts) whose events did not all arrive, or arrived out of order. */
  incomplete: number
  eventsPerS: number
  colonyUsPerEvent: number
  natsUsPerEvent: number
  /** This process: the subscriber (and, for label.put, the requester). */
  benchUsPerEvent: number
  colonyCpu: number
}

/** Waits for `expected` matched events; gives up once nothing arrived for QUIET_MS after the cause ended. */
async function settle (tally: EventTally, expected: number, endedAtMs: number, quietMs: number): Promise<void> {
  while (tally.matched < expected) {
    if (performance.now() - Math.max(tally.lastAtMs, endedAtMs) > quietMs) return
    await sleep(5)
  }
}

export const natsBench: Bench = {
  name: 'nats',
  description: 'NATS control round trips (host.get, host.ping) vs a bare nats.js responder; lattice events/s',
  // Rounds are short and nats-server shares the two cores: nine keep the events/s median from following one
  // busy stretch.
  defaultRounds: 9,
  async run (options) {
    const scope = new Scope()
    const notes: string[] = []
    try {
      const server = await startNatsServer()
      scope.defer(() => server.stop())
      const colony = startWorker('colony', 'colony-nats', { natsUrl: server.url } satisfies ColonyArgs)
      scope.defer(() => colony.kill())
      const info = await colony.ready<ColonyInfo>()
      const nc: NatsConnection = await connect({ servers: server.url, name: 'colony-bench requester' })
      scope.defer(() => nc.close())
      const subNc: NatsConnection = await connect({ servers: server.url, name: 'colony-bench events' })
      scope.defer(() => subNc.close())

      // The bridge joins in the background after the runtime is up: ask until a host answers.
      const empty = new Uint8Array(0)
      const hostId = await withTimeout((async () => {
        for (;;) {
          try {
            const reply = (await nc.request(`${CTL}.host.ping`, empty, { timeout: 1000 })).json<CtlReply>()
            if (reply.success === true && typeof reply.response?.id === 'string') return reply.response.id
            throw new Error(`host.ping answered ${JSON.stringify(reply)}`)
          } catch (err) {
            if (err instanceof Error && err.message.startsWith('host.ping answered')) throw err
            await sleep(50)
          }
        }
      })(), 20_000, 'the Colony to answer host.ping on NATS')
      const subjects: Record<Key, string> = { get: `${CTL}.host.get.${hostId}`, echoGet: 'bench.echo.get', ping: `${CTL}.host.ping`, echoPing: 'bench.echo.ping' }
      const getReply = (await nc.request(subjects.get, empty, { timeout: 5000 })).data
      const pingReply = (await nc.request(subjects.ping, empty, { timeout: 5000 })).data
      for (const [what, bytes] of [['host.get', getReply], ['host.ping', pingReply]] as const) {
        const r = JSON.parse(Buffer.from(bytes).toString('utf8')) as CtlReply
        if (r.success !== true) throw new Error(`${what} answered ${Buffer.from(bytes).toString('utf8')}`)
      }

      const echo = startWorker('nats-echo', 'nats-echo')
      scope.defer(() => echo.kill())
      await echo.ready()
      const served = await echo.request<NatsEchoInfo>('serve', {
        url: server.url,
        replies: { [subjects.echoGet]: Buffer.from(getReply).toString('base64'), [subjects.echoPing]: Buffer.from(pingReply).toString('base64') },
      } satisfies NatsEchoArgs)
      const check = await nc.request(subjects.echoGet, empty, { timeout: 5000 })
      if (!Buffer.from(check.data).equals(Buffer.from(getReply))) throw new Error('the bare responder does not answer the same bytes')

      // (1) Round trips. The server CPU is read from /proc (10 ms ticks: fine over 2000 calls).
      const pidOf: Record<Key, number> = { get: info.pid, ping: info.pid, echoGet: served.pid, echoPing: served.pid }
      const bytesOf: Record<Key, number> = { get: getReply.length, echoGet: getReply.length, ping: pingReply.length, echoPing: pingReply.length }
      const keys = Object.keys(PATHS) as Key[]
      const runs = new Map<Key, LatencyStats[]>()
      for (let round = 0; round < options.rounds; round++) {
        for (const k of rotate(keys, round)) {
          process.stderr.write(`[bench] nats: round ${round + 1}/${options.rounds}, ${PATHS[k]}\n`)
          const pid = pidOf[k]
          const stats = await sequential(() => nc.request(subjects[k], empty, { timeout: 5000 }), WARMUP, SAMPLES, () => procSample(pid).cpuUs)
          runs.set(k, [...(runs.get(k) ?? []), stats])
        }
      }
      const lat = new Map(keys.map((k) => [k, combine(runs.get(k) ?? [])]))
      const get = (k: Key): LatencyStats => lat.get(k) as LatencyStats
      const p50 = (s: LatencyStats): number => s.p50Us
      const cpu = (s: LatencyStats): number => s.cpuUsPerCall

      // (2) Events. One subscriber for the whole run (closed with its connection); each phase gets a fresh tally.
      let tally = new EventTally('', '')
      const sub = subNc.subscribe(`${EVT}.*`, { callback: (err, msg) => { if (err === null) tally.take(msg) } })
      await subNc.flush()

      const measure = async (tallyFor: EventTally, expected: number, cause: () => Promise<void>,
        incomplete: () => number, quietMs = QUIET_MS): Promise<EventRun> => {
        tally = tallyFor
        const c0 = procSample(info.pid).cpuUs
        const n0 = procSample(server.child.pid as number).cpuUs
        const b0 = ownCpu()
        const t0 = performance.now()
        await cause()
        await settle(tally, expected, performance.now(), quietMs)
        const seconds = (Math.max(tally.lastAtMs, t0) - t0) / 1000
        const colonyUs = procSample(info.pid).cpuUs - c0
        const natsUs = procSample(server.child.pid as number).cpuUs - n0
        const benchUs = ownCpu() - b0
        const received = tally.matched
        return {
          expected,
          received,
          incomplete: incomplete(),
          eventsPerS: received / seconds,
          colonyUsPerEvent: colonyUs / received,
          natsUsPerEvent: natsUs / received,
          benchUsPerEvent: benchUs / received,
          colonyCpu: colonyUs / 1e6 / ((performance.now() - t0) / 1000),
        }
      }
      const churn = (prefix: string, count: number) => async (): Promise<void> => {
        const r = await colony.request<ChurnResult>('churn', { count, prefix, concurrency: CHURN_LANES } satisfies ChurnArgs)
        if (r.notRunning > 0) notes.push(`${r.notRunning} of ${count} churned echo actors (${prefix}) did not reach running`)
      }

      // Which statuses one spawn-and-delete cycle announces (every actor must show the same sequence).
      process.stderr.write('[bench] nats: churn warm-up\n')
      const warm = new EventTally('warm-', '')
      await measure(warm, Infinity, churn('warm-', CHURN_WARMUP), () => 0, WARMUP_QUIET_MS)
      const sequences = new Map<string, number>()
      for (const s of warm.states.values()) sequences.set(s.join(','), (sequences.get(s.join(',')) ?? 0) + 1)
      const cycle = [...sequences.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? ''
      if (warm.states.size !== CHURN_WARMUP || sequences.size !== 1) {
        notes.push(`churn warm-up: ${warm.states.size} of ${CHURN_WARMUP} actors seen, sequences ${JSON.stringify(Object.fromEntries(sequences))}`)
      }
      const perCycle = cycle === '' ? 0 : cycle.split(',').length
      if (perCycle === 0) throw new Error('the churn warm-up produced no actor_state_changed events')

      // Label puts: the same key every time, so the labels (and each event) keep their size. Published with a reply
      // inbox of our own rather than nc.request (a promise and a timer per call): the requester stays cheap, so the
      // rate is Colony's. LABEL_LANES commands in flight; each reply sends the next.
      const labelPuts = (prefix: string): Promise<void> => withTimeout(new Promise<void>((resolve) => {
        const inbox = createInbox()
        const subject = `${CTL}.label.put.${hostId}`
        let sent = 0
        let answered = 0
        let failed = 0
        const send = (): void => { nc.publish(subject, JSON.stringify({ key: 'bench', value: `${prefix}${sent++}` }), { reply: inbox }) }
        const replies = nc.subscribe(inbox, {
          callback: (err, msg) => {
            if (err !== null) return
            answered++
            if (!SUCCESS.test(msg.string())) failed++
            if (sent < LABELS) send()
            else if (answered === LABELS) {
              replies.unsubscribe()
              if (failed > 0) notes.push(`${failed} of ${LABELS} label.put requests failed`)
              resolve()
            }
          },
        })
        for (let i = 0; i < LABEL_LANES; i++) send()
      }), 60_000, `${LABELS} label.put replies`)
      await measure(new EventTally('', 'warm-'), LABELS, () => labelPuts('warm-'), () => 0)

      const events = new Map<string, EventRun[]>()
      const add = (name: string, r: EventRun): void => { events.set(name, [...(events.get(name) ?? []), r]) }
      const CHURN_NAME = 'actor churn'
      const LABEL_NAME = 'label.put'
      const CAUSES: Record<string, string> = {
        [CHURN_NAME]: `actor churn: spawn + delete echo, ${CHURN_LANES} at a time`,
        [LABEL_NAME]: `label.put from NATS, ${LABEL_LANES} in flight`,
      }
      for (let round = 0; round < options.rounds; round++) {
        process.stderr.write(`[bench] nats: round ${round + 1}/${options.rounds}, events (churn, label.put)\n`)
        const churnPrefix = `churn${round}-`
        const t = new EventTally(churnPrefix, '')
        add(CHURN_NAME, await measure(t, CHURN * perCycle, churn(churnPrefix, CHURN), () => {
          let bad = CHURN - t.states.size
          for (const s of t.states.values()) if (s.join(',') !== cycle) bad++
          return bad
        }))
        const labelPrefix = `r${round}-`
        const l = new EventTally('', labelPrefix)
        add(LABEL_NAME, await measure(l, LABELS, () => labelPuts(labelPrefix), () => LABELS - l.labelValues.size))
      }
      sub.unsubscribe()
      await nc.drain()
      await subNc.drain()
      if (!await echo.close()) notes.push('the bare NATS responder did not exit by itself')
      if (!await colony.close()) notes.push('the Colony runtime did not exit by itself after close()')

      const rows: Cell[][] = keys.map((k) => [PATHS[k], bytesOf[k], get(k).p50Us, get(k).p99Us, get(k).meanUs, get(k).cpuUsPerCall, get(k).n])
      const eventRows: Cell[][] = []
      const eventVerdicts: Verdict[] = []
      for (const [name, rs] of events) {
        const m = (f: (r: EventRun) => number): number => median(rs.map(f))
        const expected = rs.reduce((s, r) => s + r.expected, 0)
        const received = rs.reduce((s, r) => s + r.received, 0)
        const incomplete = rs.reduce((s, r) => s + r.incomplete, 0)
        if (received !== expected || incomplete > 0) {
          notes.push(`${name}: ${expected - received} of ${expected} events lost, ${incomplete} causes without their exact events`)
        }
        eventRows.push([CAUSES[name] ?? name, expected, received, expected - received, m((r) => r.eventsPerS), m((r) => r.colonyUsPerEvent),
          m((r) => r.natsUsPerEvent), m((r) => r.benchUsPerEvent), pct(m((r) => r.colonyCpu)), rs.map((r) => Math.round(r.eventsPerS)).join('/')])
        eventVerdicts.push({
          name: `bridge events/s, ${name}`,
          ratio: m((r) => r.eventsPerS),
          unit: 'events/s',
          detail: `${m((r) => r.colonyUsPerEvent).toFixed(0)} µs of Colony CPU per event (everything that caused it included); ` +
            `${received} of ${expected} events received`,
        })
      }
      const verdicts: Verdict[] = [{
        name: 'host.get / raw echo, p50',
        ratio: pairedRatio(roundsOf(runs, 'get', p50), roundsOf(runs, 'echoGet', p50)),
        targetMax: 2,
        detail: `${get('get').p50Us.toFixed(0)} vs ${get('echoGet').p50Us.toFixed(0)} µs; p99 ${get('get').p99Us.toFixed(0)} vs ${get('echoGet').p99Us.toFixed(0)} µs; ` +
          `${getReply.length} byte reply`,
      }, {
        name: 'host.ping / raw echo, p50',
        ratio: pairedRatio(roundsOf(runs, 'ping', p50), roundsOf(runs, 'echoPing', p50)),
        targetMax: 2,
        detail: `${get('ping').p50Us.toFixed(0)} vs ${get('echoPing').p50Us.toFixed(0)} µs; p99 ${get('ping').p99Us.toFixed(0)} vs ${get('echoPing').p99Us.toFixed(0)} µs; ` +
          `${pingReply.length} byte reply`,
      }, {
        name: 'host.get / raw echo, server CPU per request',
        ratio: pairedRatio(roundsOf(runs, 'get', cpu), roundsOf(runs, 'echoGet', cpu)),
        detail: `${get('get').cpuUsPerCall.toFixed(0)} vs ${get('echoGet').cpuUsPerCall.toFixed(0)} µs of responder CPU per request`,
      }, ...eventVerdicts]
      return {
        tables: [{
          title: `NATS request/reply, one in flight, µs (${WARMUP} warm-up + ${SAMPLES} requests per round, median of ${options.rounds} rounds)`,
          columns: ['path', 'reply bytes', 'p50 µs', 'p99 µs', 'mean µs', 'CPU µs/req', 'requests'],
          rows,
          note: `requester: nats.js in the bench process; CPU µs/req: the responding process (Colony or the bare responder), all threads; ` +
            `nats-server ${server.url}`,
        }, {
          title: `CloudEvents on ${EVT}.* (median of ${options.rounds} rounds; churn: ${CHURN} actors, ${perCycle} events each [${cycle}]; label.put: ${LABELS} commands)`,
          columns: ['cause', `expected (${options.rounds} runs)`, 'received', 'lost', 'events/s', 'Colony CPU µs/event', 'nats-server µs/event',
            'bench process µs/event', 'Colony CPU', 'runs events/s'],
          rows: eventRows,
          note: 'events/s: matched events / (first cause to last event); Colony CPU includes the work that caused each event ' +
            '(spawning and deleting actors, answering label.put) and the event\'s MQTT mirror; every event is also published ' +
            `on ${CTL}.evt.{hostId} (not counted); bench process: the subscriber and, for label.put, the requester`,
        }],
        verdicts,
        notes,
      }
    } finally {
      await scope.close()
    }
  },
}
