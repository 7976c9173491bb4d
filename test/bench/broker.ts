import { MOSQUITTO_TUNING, startMosquitto } from './lib/external.js'
import { PUBLISH, rawConnect, rawSubscribe, type RawClient } from './lib/mqtt-raw.js'
import { procSample, Scope, sleep, startWorker, withTimeout, type Worker } from './lib/proc.js'
import { mb, median, pairedRatio, pct, rotate, roundRatios, spread, type Bench, type Cell, type Table, type Verdict } from './lib/report.js'
import type { AedesArgs, AedesInfo } from './workers/aedes.js'
import type { ColonyInfo } from './workers/colony.js'
import type { PublisherArgs, PublisherTotals } from './workers/publisher.js'

/**
 * Broker overhead, each broker in its own process with its CPU read from /proc: bare Aedes as it comes
 * (`createServer(aedes.handle)`), bare Aedes with the socket wrapper Colony's listener uses (TCP_NODELAY and
 * per-turn write coalescing: the ratio that isolates Colony's own layers is against this one), a real Colony
 * runtime's MQTT listener, and Mosquitto when installed (queue and in-flight limits off, TCP_NODELAY on).
 *
 * - QoS 0 fan-in: 4 publisher processes flood ~150-byte JSON on `bench/<i>/x` into one subscriber on `bench/+/x`.
 * - QoS 0 fan-in paced: the same at a fixed 30 000 msg/s in total, so broker CPU per message compares like with like.
 * - QoS 1 fan-in: the same at QoS 1, each publisher with at most 32 unacknowledged; the subscriber acks each.
 * - QoS 0 fan-out: 1 publisher floods `bench/f/x` into 100 subscribers.
 * - Persistent session: a clean:false QoS 1 subscriber goes offline, N QoS 1 publishes are queued for it, then
 *   it reconnects and the queue is drained.
 *
 * Every delivery is counted where it arrives: after the window the publishers stop, the broker is given time to
 * deliver what it holds, and what never arrived is reported as lost. CPU is read for every process involved:
 * the broker, the publishers and this process (the subscribers). Rounds rotate the brokers' order.
 */
const WARMUP_MS = 1000
/** After the publishers stop: how long deliveries may stall before what is missing counts as lost. */
const STALL_MS = 2000
/** Persistent-session case: publishes queued while the subscriber is offline. */
const QUEUED = 20_000
const PUB_WINDOW = 32
/**
 * Paced fan-in, per publisher: 4 x 7 500 = 30 000 msg/s, below the slowest broker's flood rate here (Mosquitto
 * and plain Aedes ~40-45k msg/s), so no broker is saturated and each one's CPU per message is its own cost.
 */
const PACED_RATE = 7500

interface Broker { pid: number, port: number, stop(): Promise<unknown> }
interface Target { name: string, start(): Promise<Broker | undefined> }

/** CPU µs per delivered message of each process involved. */
interface CpuPerMsg { broker: number, publishers: number, subscribers: number }
interface Trial {
  /** Deliveries per second inside the window (summed over the subscribers). */
  recvPerS: number
  /** Publishes per second inside the window. */
  sentPerS: number
  cpuPct: number
  us: CpuPerMsg
  rssBytes: number
  /** Over the whole trial, once the publishers stopped and the broker had time to deliver: publishes × subscribers. */
  expected: number
  received: number
  /** Persistent case: publishes queued per second (publisher acked), and queued messages drained per second. */
  queuePerS?: number
  drainPerS?: number
}

interface StreamCase {
  key: string
  title: string
  publishers: number
  subscribers: number
  /** The publishers' QoS; the subscriptions' is `subQos`. */
  qos: 0 | 1
  subQos: 0 | 1
  filter: string
  topic(i: number): string
  /** Most unacknowledged QoS 1 publishes per publisher. */
  window: number
  /** Publishes per second per publisher; flooding when absent. */
  rate?: number
  note: string
}

const STREAMS: StreamCase[] = [
  {
    key: 'qos0-fan-in', title: 'QoS 0 fan-in, 4 publishers -> 1 subscriber', publishers: 4, subscribers: 1, qos: 0, subQos: 0,
    filter: 'bench/+/x', topic: (i) => `bench/${i}/x`, window: 0,
    note: 'Publishers flood (TCP back-pressure is the only throttle).',
  },
  {
    key: 'qos0-fan-in-paced', title: `QoS 0 fan-in paced, 4 publishers x ${PACED_RATE.toLocaleString('en-US')} msg/s -> 1 subscriber`, publishers: 4, subscribers: 1, qos: 0, subQos: 0,
    filter: 'bench/+/x', topic: (i) => `bench/${i}/x`, window: 0, rate: PACED_RATE,
    note: 'The same fan-in at a fixed offered load every broker keeps up with: broker µs/msg compares the work each does per ' +
      'message with the same bursts, which a flood (where the batching changes with the speed) cannot hold still.',
  },
  {
    key: 'qos1-fan-in', title: `QoS 1 fan-in, 4 publishers x ${PUB_WINDOW} in flight -> 1 subscriber (acking)`, publishers: 4, subscribers: 1, qos: 1, subQos: 1,
    filter: 'bench/+/x', topic: (i) => `bench/${i}/x`, window: PUB_WINDOW,
    note: `Each publisher keeps at most ${PUB_WINDOW} QoS 1 publishes unacknowledged; the subscriber acks every delivery.`,
  },
  {
    key: 'fan-out', title: `Fan-out, 1 publisher (QoS 1, ${PUB_WINDOW} in flight) -> 100 QoS 0 subscribers`, publishers: 1, subscribers: 100, qos: 1, subQos: 0,
    filter: 'bench/f/x', topic: () => 'bench/f/x', window: PUB_WINDOW,
    note: 'msg/s and µs/msg count deliveries (each publish is delivered 100 times). The publisher uses QoS 1 so the broker\'s ' +
      'acks pace it: a QoS 0 flood would only measure how much a broker can buffer.',
  },
]

function aedesTarget (name: string, tuned: boolean): Target {
  return {
    name,
    async start () {
      const w = startWorker('aedes', tuned ? 'aedes-tuned' : 'aedes-plain', { tuned } satisfies AedesArgs)
      const info = await w.ready<AedesInfo>()
      return { pid: info.pid, port: info.port, stop: () => w.close() }
    },
  }
}

const PLAIN = 'bare Aedes (plain)'
const TUNED = 'bare Aedes (tuned: same socket wrapper)'
const COLONY = 'Colony broker'
const MOSQUITTO = 'Mosquitto (limits off)'

const TARGETS: Target[] = [
  aedesTarget(PLAIN, false),
  aedesTarget(TUNED, true),
  {
    name: COLONY,
    async start () {
      const w = startWorker('colony', 'colony-broker')
      const info = await w.ready<ColonyInfo>()
      return { pid: info.pid, port: info.mqttPort, stop: () => w.close() }
    },
  },
  { name: MOSQUITTO, start: startMosquitto },
]

/** CPU µs so far of the broker, the publishers (summed) and this process (where the subscribers read). */
function cpuNow (broker: Broker, pubs: Worker[]): { broker: number, publishers: number, subscribers: number, rss: number } {
  const b = procSample(broker.pid)
  const self = process.cpuUsage()
  return {
    broker: b.cpuUs,
    publishers: pubs.reduce((s, p) => s + procSample(p.pid).cpuUs, 0),
    subscribers: self.user + self.system,
    rss: b.rssBytes,
  }
}

function perMsg (a: ReturnType<typeof cpuNow>, b: ReturnType<typeof cpuNow>, msgs: number): CpuPerMsg {
  return { broker: (b.broker - a.broker) / msgs, publishers: (b.publishers - a.publishers) / msgs, subscribers: (b.subscribers - a.subscribers) / msgs }
}

const received = (subs: RawClient[]): number => subs.reduce((s, sub) => s + (sub.counter.counts[PUBLISH] as number), 0)

/** Resolves when the subscribers have `expected` deliveries, or when none arrived for STALL_MS (then some are lost). */
async function deliveries (subs: RawClient[], expected: number, maxMs: number): Promise<number> {
  const deadline = performance.now() + maxMs
  let last = -1
  while (performance.now() < deadline) {
    const now = received(subs)
    if (now >= expected || now === last) return now
    last = now
    // Woken by the next chunk on any subscriber, or after STALL_MS with nothing new.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, STALL_MS)
      function done (): void {
        clearTimeout(timer)
        for (const sub of subs) sub.socket.off('data', check)
        resolve()
      }
      function check (): void { if (received(subs) >= expected) done() }
      for (const sub of subs) sub.socket.on('data', check)
    })
  }
  return received(subs)
}

function startPublishers (broker: Broker, n: number, scope: Scope, args: (i: number) => Omit<PublisherArgs, 'port' | 'index'>): Worker[] {
  return Array.from({ length: n }, (_x, i) => {
    const w = startWorker('publisher', `publisher-${i}`, { port: broker.port, index: i, ...args(i) } satisfies PublisherArgs)
    scope.defer(() => w.close())
    return w
  })
}

async function streamTrial (broker: Broker, c: StreamCase, windowS: number): Promise<Trial> {
  const scope = new Scope()
  try {
    const subs = await Promise.all(Array.from({ length: c.subscribers }, async (_x, k) => {
      const sub = await rawConnect(broker.port, `bench-sub-${k}-${process.pid}`, { ackQoS1: c.subQos === 1 })
      scope.defer(() => sub.close())
      await rawSubscribe(sub, c.filter, c.subQos)
      return sub
    }))
    const pubs = startPublishers(broker, c.publishers, scope, (i) => ({ qos: c.qos, topic: c.topic(i), window: c.window, ...(c.rate !== undefined && { rate: c.rate }) }))
    await Promise.all(pubs.map((p) => p.ready()))
    await Promise.all(pubs.map((p) => p.request('go')))
    await sleep(WARMUP_MS)

    const mark = async (): Promise<{ sent: number, recv: number, cpu: ReturnType<typeof cpuNow>, at: number }> => {
      const sent = (await Promise.all(pubs.map((p) => p.request<number>('mark')))).reduce((s, n) => s + n, 0)
      return { sent, recv: received(subs), cpu: cpuNow(broker, pubs), at: performance.now() }
    }
    const a = await mark()
    await sleep(windowS * 1000)
    const b = await mark()
    const totals = await Promise.all(pubs.map((p) => p.request<PublisherTotals>('stop', undefined, 30_000)))
    const expected = totals.reduce((s, t) => s + t.sent, 0) * c.subscribers
    const got = await deliveries(subs, expected, 30_000)
    const seconds = (b.at - a.at) / 1000
    const recv = b.recv - a.recv
    return {
      recvPerS: recv / seconds,
      sentPerS: (b.sent - a.sent) / seconds,
      cpuPct: (b.cpu.broker - a.cpu.broker) / 1e6 / seconds,
      us: perMsg(a.cpu, b.cpu, recv),
      rssBytes: b.cpu.rss,
      expected,
      received: got,
    }
  } finally {
    await scope.close()
  }
}

/** clean:false subscriber offline while QUEUED publishes arrive for it, then back to drain them. */
async function persistentTrial (broker: Broker): Promise<Trial> {
  const scope = new Scope()
  try {
    const clientId = `bench-persistent-${process.pid}`
    const first = await rawConnect(broker.port, clientId, { clean: false })
    await rawSubscribe(first, 'bench/p/x', 1)
    await first.close()

    const pubs = startPublishers(broker, 1, scope, () => ({ qos: 1, topic: 'bench/p/x', window: PUB_WINDOW, count: QUEUED }))
    await Promise.all(pubs.map((p) => p.ready()))
    const c0 = cpuNow(broker, pubs)
    const t0 = performance.now()
    await (pubs[0] as Worker).request('go')
    const totals = await (pubs[0] as Worker).request<PublisherTotals>('done', undefined, 180_000)
    const t1 = performance.now()
    if (totals.acked < QUEUED) throw new Error(`the broker acknowledged ${totals.acked} of ${QUEUED} publishes`)

    const t2 = performance.now()
    const sub = await rawConnect(broker.port, clientId, { clean: false, ackQoS1: true })
    scope.defer(() => sub.close())
    const got = await withTimeout(deliveries([sub], QUEUED, 120_000), 130_000, 'the queue to drain')
    const t3 = performance.now()
    const c1 = cpuNow(broker, pubs)
    return {
      queuePerS: QUEUED / ((t1 - t0) / 1000),
      drainPerS: got / ((t3 - t2) / 1000),
      // The whole life of a queued message: received, stored, delivered, acknowledged.
      recvPerS: got / ((t3 - t0) / 1000),
      sentPerS: QUEUED / ((t3 - t0) / 1000),
      cpuPct: (c1.broker - c0.broker) / 1e6 / ((t3 - t0) / 1000),
      us: perMsg(c0, c1, got),
      rssBytes: c1.rss,
      expected: QUEUED,
      received: got,
    }
  } finally {
    await scope.close()
  }
}

interface CaseDef { key: string, title: string, note: string, run(broker: Broker, windowS: number): Promise<Trial> }

const CASES: CaseDef[] = [
  ...STREAMS.map((c): CaseDef => ({ key: c.key, title: c.title, note: c.note, run: (b, w) => streamTrial(b, c, w) })),
  {
    key: 'persistent',
    title: `Persistent session: ${QUEUED.toLocaleString('en-US')} QoS 1 publishes (${PUB_WINDOW} in flight) queued for an offline clean:false subscriber, then drained`,
    note: 'queue msg/s: publishes acknowledged per second while the subscriber is offline; drain msg/s: from its reconnect to the ' +
      'last queued message received (it acks each). µs/msg: CPU over both phases per message delivered.',
    run: (b) => persistentTrial(b),
  },
]

export const brokerBench: Bench = {
  name: 'broker',
  description: 'QoS 0 / QoS 1 fan-in, QoS 0 fan-out to 100, a persistent session\'s offline queue: Colony\'s broker vs bare Aedes (plain and tuned) and Mosquitto',
  // Six processes share the two cores in a flood round, so one round's ratio moves by ±20 %: three rounds moved the
  // median by 39 % between full runs, seven still by up to 19 %. The paced case holds within a few per cent.
  defaultRounds: 7,
  async run (options) {
    const windowS = options.windowS ?? 3
    const trials = new Map<string, Trial[]>()
    const notes: string[] = []
    const skipped = new Set<string>()
    for (let round = 0; round < options.rounds; round++) {
      for (const c of CASES) {
        for (const target of rotate(TARGETS, round)) {
          if (skipped.has(target.name)) continue
          const broker = await target.start()
          if (broker === undefined) {
            skipped.add(target.name)
            notes.push(`${target.name} is not installed (scripts/bench-deps.sh installs it): skipped, and its ratios are NOT MEASURED`)
            continue
          }
          process.stderr.write(`[bench] broker: round ${round + 1}/${options.rounds}, ${c.key}, ${target.name}\n`)
          const started = performance.now()
          try {
            const t = await c.run(broker, windowS)
            process.stderr.write(`[bench] broker: ${c.key}, ${target.name}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
            const key = `${c.key}|${target.name}`
            trials.set(key, [...(trials.get(key) ?? []), t])
          } finally {
            const clean = await broker.stop()
            if (clean === false) notes.push(`${target.name} (${c.key}, round ${round + 1}) did not exit by itself after close`)
          }
        }
      }
    }
    if (!skipped.has(MOSQUITTO)) notes.push(`Mosquitto ran with ${MOSQUITTO_TUNING.join(', ')} (generated config; its defaults drop QoS 1 beyond 20 in flight + 1 000 queued)`)

    const tables: Table[] = []
    const verdicts: Verdict[] = []
    for (const c of CASES) {
      const rows: Cell[][] = []
      const persistent = c.key === 'persistent'
      for (const target of TARGETS) {
        const ts = trials.get(`${c.key}|${target.name}`)
        if (ts === undefined) continue
        const expected = ts.reduce((s, t) => s + t.expected, 0)
        const got = ts.reduce((s, t) => s + t.received, 0)
        const lost = Math.max(0, expected - got)
        if (lost > 0) notes.push(`${c.key}: ${target.name} lost ${lost} of ${expected} deliveries over ${ts.length} rounds`)
        if (got > expected) notes.push(`${c.key}: ${target.name} delivered ${got - expected} more than were sent (duplicates)`)
        const us = (k: keyof CpuPerMsg): string => spread(ts.map((t) => t.us[k]))
        rows.push([
          target.name,
          ...(persistent
            ? [spread(ts.map((t) => t.queuePerS ?? NaN)), spread(ts.map((t) => t.drainPerS ?? NaN))]
            : [spread(ts.map((t) => t.recvPerS)), spread(ts.map((t) => t.sentPerS))]),
          `${got}/${expected}`, lost, us('broker'), us('publishers'), us('subscribers'), pct(median(ts.map((t) => t.cpuPct))), mb(median(ts.map((t) => t.rssBytes))),
        ])
        if (target.name === COLONY) {
          verdicts.push({ name: `${c.key}: Colony delivered/sent`, ratio: got / expected, target: 1, detail: `${got} of ${expected} deliveries arrived over ${ts.length} rounds` })
        }
      }
      verdicts.push(...caseVerdicts(c.key, trials, persistent))
      tables.push({
        title: `${c.title}${persistent ? '' : `, ${windowS} s window`}, median (min..max) of ${options.rounds} rounds`,
        columns: ['broker', persistent ? 'queue msg/s' : 'recv msg/s', persistent ? 'drain msg/s' : 'sent msg/s', 'delivered/sent', 'lost',
          'broker µs/msg', 'publishers µs/msg', 'subscribers µs/msg', 'broker CPU', 'RSS'],
        rows,
        note: `${c.note} delivered/sent: every round, counted at the subscribers after the publishers stopped (${STALL_MS / 1000} s without progress ` +
          'ends the wait). subscribers µs/msg: this process, which also drives the run.',
      })
    }
    return { tables, verdicts, notes }
  },
}

/** The ratios of one case; targets from the issue "Performance you can reproduce". */
function caseVerdicts (key: string, trials: Map<string, Trial[]>, persistent: boolean): Verdict[] {
  const rates = (name: string): number[] => (trials.get(`${key}|${name}`) ?? []).map((t) => (persistent ? t.drainPerS ?? NaN : t.recvPerS))
  const costs = (name: string): number[] => (trials.get(`${key}|${name}`) ?? []).map((t) => t.us.broker)
  const rate = (name: string): number => median(rates(name))
  const usPerMsg = (name: string): number => median(costs(name))
  const what = persistent ? 'drain msg/s' : 'msg/s'
  const throughput = (a: string, b: string, target?: number): Verdict => ({
    name: `${key}: ${a} / ${b} ${what}`,
    ratio: pairedRatio(rates(a), rates(b)),
    ...(target !== undefined && { target }),
    detail: `${Math.round(rate(a))} vs ${Math.round(rate(b))} ${what} (${roundRatios(rates(a), rates(b))}); per broker CPU-second ${(usPerMsg(b) / usPerMsg(a)).toFixed(2)}x`,
  })
  const perCpu = (a: string, b: string, target?: number): Verdict => ({
    name: `${key}: ${a} / ${b} msg per broker CPU-second`,
    ratio: pairedRatio(costs(b), costs(a)),
    ...(target !== undefined && { target }),
    detail: `${usPerMsg(a).toFixed(2)} vs ${usPerMsg(b).toFixed(2)} µs of broker CPU per message (${roundRatios(costs(b), costs(a))})`,
  })
  const out: Verdict[] = []
  if (key === 'qos0-fan-in') {
    out.push(throughput(COLONY, TUNED), throughput(COLONY, PLAIN), throughput(TUNED, PLAIN), perCpu(COLONY, MOSQUITTO, 0.6), throughput(COLONY, MOSQUITTO))
  } else if (key === 'qos0-fan-in-paced') {
    // What Colony's own layers cost: the same offered load, broker CPU per message against Aedes with every trick.
    out.push(perCpu(COLONY, TUNED, 1.0), perCpu(COLONY, PLAIN), perCpu(COLONY, MOSQUITTO))
  } else if (key === 'qos1-fan-in') {
    out.push(throughput(COLONY, MOSQUITTO, 1.2), throughput(COLONY, TUNED), throughput(COLONY, PLAIN), perCpu(COLONY, MOSQUITTO))
  } else {
    out.push(throughput(COLONY, TUNED), throughput(COLONY, PLAIN), throughput(COLONY, MOSQUITTO), perCpu(COLONY, MOSQUITTO))
  }
  return out
}
