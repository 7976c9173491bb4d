import { startMosquitto } from './lib/external.js'
import { PUBLISH, rawConnect, rawSubscribe } from './lib/mqtt-raw.js'
import { procSample, Scope, sleep, startWorker, type Worker } from './lib/proc.js'
import { mb, median, pct, type Bench, type Cell, type Table, type Verdict } from './lib/report.js'
import type { AedesInfo } from './workers/aedes.js'
import type { ColonyInfo } from './workers/colony.js'

/**
 * Broker overhead, each broker in its own process with its CPU read from /proc: (a) a bare Aedes, (b) a real
 * Colony runtime's MQTT listener (hooks, packet guard, ordered emitter, session store adapter, system actors
 * idling alongside) and (c) Mosquitto when installed. Three cases:
 *
 * - QoS 0 fan-in: 4 publisher processes flood ~150-byte JSON on `bench/<i>/x` into one subscriber on `bench/+/x`.
 * - QoS 1 fan-in: the same at QoS 1 (publishers keep at most 1 024 unacknowledged; the subscriber acks each).
 * - QoS 1 persistent sessions: 1 publisher at QoS 1 (at most 100 unacknowledged) into 100 `clean: false`
 *   subscribers of `bench/p/x` (QoS 1, acking): deliveries/s summed over the subscribers, the path a persistent session's live delivery takes.
 *
 * Rounds interleave the brokers so drift in the machine's speed hits all of them alike.
 */
const WARMUP_MS = 1500

interface Broker { pid: number, port: number, stop(): Promise<unknown> }
interface Target { name: string, start(): Promise<Broker | undefined> }
interface Trial { recvPerS: number, sentPerS: number, cpuPct: number, usPerMsg: number, rssBytes: number }
interface Case {
  key: string
  title: string
  publishers: number
  subscribers: number
  qos: 0 | 1
  persistent: boolean
  filter: string
  /** The topic publisher `i` publishes on. */
  topic(i: number): string
  /** Most unacknowledged QoS 1 publishes per publisher. */
  window: number
  note: string
}

const CASES: Case[] = [
  {
    key: 'qos0-fan-in', title: 'QoS 0 fan-in, 4 publishers -> 1 subscriber', publishers: 4, subscribers: 1, qos: 0, persistent: false,
    filter: 'bench/+/x', topic: (i) => `bench/${i}/x`, window: 0,
    note: 'sent: what the publishers handed to their sockets (TCP back-pressure throttles them). recv/sent is approximate ' +
      '(socket buffers hold thousands of messages); well under 100% means the broker dropped QoS 0.',
  },
  {
    key: 'qos1-fan-in', title: 'QoS 1 fan-in, 4 publishers -> 1 subscriber (acking)', publishers: 4, subscribers: 1, qos: 1, persistent: false,
    filter: 'bench/+/x', topic: (i) => `bench/${i}/x`, window: 1024,
    note: 'Publishers keep at most 1 024 QoS 1 publishes unacknowledged. Mosquitto sends a subscriber at most 20 unacknowledged ' +
      'messages and queues 1 000 more (its defaults), dropping beyond that: recv/sent under 100% is its queue overflowing.',
  },
  {
    key: 'qos1-persistent', title: 'QoS 1 persistent sessions, 1 publisher -> 100 clean:false subscribers (acking)', publishers: 1, subscribers: 100, qos: 1, persistent: true,
    filter: 'bench/p/x', topic: () => 'bench/p/x', window: 100,
    note: 'recv msg/s: deliveries per second summed over the 100 subscribers (each publish is delivered 100 times); the ' +
      'publisher keeps at most 100 publishes unacknowledged. recv/sent is deliveries per publish, about 100 when nothing is lost.',
  },
]

const TARGETS: Target[] = [
  {
    name: 'bare Aedes',
    async start () {
      const w = startWorker('aedes', 'aedes')
      const info = await w.ready<AedesInfo>()
      return { pid: info.pid, port: info.port, stop: () => w.close() }
    },
  },
  {
    name: 'Colony broker',
    async start () {
      const w = startWorker('colony', 'colony-broker')
      const info = await w.ready<ColonyInfo>()
      return { pid: info.pid, port: info.mqttPort, stop: () => w.close() }
    },
  },
  { name: 'Mosquitto', start: startMosquitto },
]

async function trial (broker: Broker, c: Case, windowS: number): Promise<Trial> {
  const scope = new Scope()
  try {
    const subs = await Promise.all(Array.from({ length: c.subscribers }, async (_x, k) => {
      const sub = await rawConnect(broker.port, `bench-sub-${k}-${process.pid}`, { clean: !c.persistent, ackQoS1: c.qos === 1 })
      scope.defer(() => sub.close())
      await rawSubscribe(sub, c.filter, c.qos)
      return sub
    }))
    const pubs: Worker[] = []
    for (let i = 0; i < c.publishers; i++) {
      const w = startWorker('publisher', `publisher-${i}`, { port: broker.port, index: i, qos: c.qos, topic: c.topic(i), window: c.window })
      scope.defer(() => w.close())
      pubs.push(w)
    }
    await Promise.all(pubs.map((p) => p.ready()))
    await Promise.all(pubs.map((p) => p.request('go')))
    await sleep(WARMUP_MS)

    const mark = async (): Promise<{ sent: number, recv: number, cpuUs: number, rssBytes: number, at: number }> => {
      const sent = (await Promise.all(pubs.map((p) => p.request<number>('mark')))).reduce((s, n) => s + n, 0)
      const proc = procSample(broker.pid)
      const recv = subs.reduce((s, sub) => s + (sub.counter.counts[PUBLISH] as number), 0)
      return { sent, recv, ...proc, at: performance.now() }
    }
    const a = await mark()
    await sleep(windowS * 1000)
    const b = await mark()
    const seconds = (b.at - a.at) / 1000
    const recv = b.recv - a.recv
    return {
      recvPerS: recv / seconds,
      sentPerS: (b.sent - a.sent) / seconds,
      cpuPct: (b.cpuUs - a.cpuUs) / 1e6 / seconds,
      usPerMsg: (b.cpuUs - a.cpuUs) / recv,
      rssBytes: b.rssBytes,
    }
  } finally {
    await scope.close()
  }
}

export const brokerBench: Bench = {
  name: 'broker',
  description: 'QoS 0 and QoS 1 fan-in (4 publishers -> 1 subscriber), QoS 1 into 100 persistent sessions: Colony\'s broker vs bare Aedes (and Mosquitto)',
  async run (options) {
    const windowS = options.windowS ?? 4
    const trials = new Map<string, Trial[]>()
    const notes: string[] = []
    const skipped = new Set<string>()
    for (let round = 0; round < options.rounds; round++) {
      for (const c of CASES) {
        // Rotate the order each round so no broker always runs first (cold machine) or last.
        const order = TARGETS.map((_t, i) => TARGETS[(i + round) % TARGETS.length] as Target)
        for (const target of order) {
          if (skipped.has(target.name)) continue
          const broker = await target.start()
          if (broker === undefined) {
            skipped.add(target.name)
            notes.push(`${target.name} is not installed (scripts/bench-deps.sh installs it): skipped`)
            continue
          }
          process.stderr.write(`[bench] broker: round ${round + 1}/${options.rounds}, ${c.key}, ${target.name}\n`)
          try {
            const t = await trial(broker, c, windowS)
            const key = `${c.key}|${target.name}`
            trials.set(key, [...(trials.get(key) ?? []), t])
          } finally {
            const clean = await broker.stop()
            if (clean === false) notes.push(`${target.name} (${c.key}, round ${round + 1}) did not exit by itself after close`)
          }
        }
      }
    }

    const tables: Table[] = []
    const verdicts: Verdict[] = []
    for (const c of CASES) {
      const summary = new Map<string, Trial>()
      const rows: Cell[][] = []
      for (const target of TARGETS) {
        const ts = trials.get(`${c.key}|${target.name}`)
        if (ts === undefined) continue
        const m: Trial = {
          recvPerS: median(ts.map((t) => t.recvPerS)),
          sentPerS: median(ts.map((t) => t.sentPerS)),
          cpuPct: median(ts.map((t) => t.cpuPct)),
          usPerMsg: median(ts.map((t) => t.usPerMsg)),
          rssBytes: median(ts.map((t) => t.rssBytes)),
        }
        summary.set(target.name, m)
        rows.push([target.name, m.recvPerS, m.sentPerS, c.subscribers > 1 ? (m.recvPerS / m.sentPerS).toFixed(1) : pct(m.recvPerS / m.sentPerS),
          pct(m.cpuPct), m.usPerMsg, 1e6 / m.usPerMsg, mb(m.rssBytes), ts.map((t) => Math.round(t.recvPerS / 1000)).join('/')])
      }
      const ratio = (a: string, b: string, target?: number): void => {
        const x = summary.get(a)
        const y = summary.get(b)
        if (x === undefined || y === undefined) return
        verdicts.push({
          name: `${c.key}: ${a} / ${b} msg/s`,
          ratio: x.recvPerS / y.recvPerS,
          ...(target !== undefined && { target }),
          detail: `${Math.round(x.recvPerS)} vs ${Math.round(y.recvPerS)} msg/s; per broker CPU-second ${(y.usPerMsg / x.usPerMsg).toFixed(2)}x`,
        })
      }
      ratio('Colony broker', 'bare Aedes', 0.9)
      ratio('bare Aedes', 'Mosquitto')
      ratio('Colony broker', 'Mosquitto')
      tables.push({
        title: `${c.title}, ${windowS} s window, median of ${options.rounds}`,
        columns: ['broker', 'recv msg/s', 'sent msg/s', 'recv/sent', 'broker CPU', 'µs CPU/msg', 'msg/CPU-s', 'RSS', 'runs k msg/s'],
        rows,
        note: c.note,
      })
    }
    return { tables, verdicts, notes }
  },
}
