import { startMosquitto } from './lib/external.js'
import { PUBLISH, rawConnect, rawSubscribe } from './lib/mqtt-raw.js'
import { procSample, Scope, sleep, startWorker, type Worker } from './lib/proc.js'
import { mb, median, pct, type Bench, type Cell, type Verdict } from './lib/report.js'
import type { AedesInfo } from './workers/aedes.js'
import type { ColonyInfo } from './workers/colony.js'

/**
 * Broker overhead: QoS 0 fan-in, 4 publisher processes flooding ~150-byte JSON on `bench/<i>/x` into one
 * subscriber on `bench/+/x`, through (a) a bare Aedes, (b) a real Colony runtime's MQTT listener (hooks,
 * packet-size guard, ordered emitter, system actors idling alongside) and (c) Mosquitto when installed.
 * Every broker runs in its own process; its CPU is read from /proc. Rounds interleave the brokers so
 * drift in the machine's speed hits all of them alike.
 */
const PUBLISHERS = 4
const WARMUP_MS = 1500

interface Broker { pid: number, port: number, stop(): Promise<unknown> }
interface Target { name: string, start(): Promise<Broker | undefined> }
interface Trial { recvPerS: number, sentPerS: number, cpuPct: number, usPerMsg: number, rssBytes: number }

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

async function trial (broker: Broker, windowS: number): Promise<Trial> {
  const scope = new Scope()
  try {
    const sub = await rawConnect(broker.port, `bench-sub-${process.pid}`)
    scope.defer(() => sub.close())
    await rawSubscribe(sub, 'bench/+/x')
    const pubs: Worker[] = []
    for (let i = 0; i < PUBLISHERS; i++) {
      const w = startWorker('publisher', `publisher-${i}`, { port: broker.port, index: i })
      scope.defer(() => w.close())
      pubs.push(w)
    }
    await Promise.all(pubs.map((p) => p.ready()))
    await Promise.all(pubs.map((p) => p.request('go')))
    await sleep(WARMUP_MS)

    const mark = async (): Promise<{ sent: number, recv: number, cpuUs: number, rssBytes: number, at: number }> => {
      const sent = (await Promise.all(pubs.map((p) => p.request<number>('mark')))).reduce((s, n) => s + n, 0)
      const proc = procSample(broker.pid)
      return { sent, recv: sub.counter.counts[PUBLISH] as number, ...proc, at: performance.now() }
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
  description: `QoS 0 fan-in, ${PUBLISHERS} publishers -> 1 subscriber: Colony's broker vs bare Aedes (and Mosquitto)`,
  async run (options) {
    const windowS = options.windowS ?? 4
    const trials = new Map<string, Trial[]>()
    const notes: string[] = []
    for (let round = 0; round < options.rounds; round++) {
      // Rotate the order each round so no broker always runs first (cold machine) or last.
      const order = TARGETS.map((_t, i) => TARGETS[(i + round) % TARGETS.length] as Target)
      for (const target of order) {
        const broker = await target.start()
        if (broker === undefined) {
          if (round === 0) notes.push(`${target.name} is not installed (scripts/bench-deps.sh installs it): skipped`)
          continue
        }
        process.stderr.write(`[bench] broker: round ${round + 1}/${options.rounds}, ${target.name}\n`)
        try {
          const t = await trial(broker, windowS)
          trials.set(target.name, [...(trials.get(target.name) ?? []), t])
        } finally {
          const clean = await broker.stop()
          if (clean === false) notes.push(`${target.name} (round ${round + 1}) did not exit by itself after close`)
        }
      }
    }

    const summary = new Map<string, Trial>()
    const rows: Cell[][] = []
    for (const [name, ts] of trials) {
      const m: Trial = {
        recvPerS: median(ts.map((t) => t.recvPerS)),
        sentPerS: median(ts.map((t) => t.sentPerS)),
        cpuPct: median(ts.map((t) => t.cpuPct)),
        usPerMsg: median(ts.map((t) => t.usPerMsg)),
        rssBytes: median(ts.map((t) => t.rssBytes)),
      }
      summary.set(name, m)
      rows.push([name, m.recvPerS, m.sentPerS, pct(m.recvPerS / m.sentPerS), pct(m.cpuPct), m.usPerMsg,
        1e6 / m.usPerMsg, mb(m.rssBytes), ts.map((t) => Math.round(t.recvPerS / 1000)).join('/')])
    }

    const verdicts: Verdict[] = []
    const ratio = (a: string, b: string, target?: number): void => {
      const x = summary.get(a)
      const y = summary.get(b)
      if (x === undefined || y === undefined) return
      verdicts.push({
        name: `${a} / ${b} msg/s`,
        ratio: x.recvPerS / y.recvPerS,
        ...(target !== undefined && { target }),
        detail: `${Math.round(x.recvPerS)} vs ${Math.round(y.recvPerS)} msg/s; per broker CPU-second ${(y.usPerMsg / x.usPerMsg).toFixed(2)}x`,
      })
    }
    ratio('Colony broker', 'bare Aedes', 0.9)
    ratio('bare Aedes', 'Mosquitto')
    ratio('Colony broker', 'Mosquitto')
    return {
      tables: [{
        title: `QoS 0 fan-in, ${PUBLISHERS} publishers -> 1 subscriber, ${windowS} s window, median of ${options.rounds}`,
        columns: ['broker', 'recv msg/s', 'sent msg/s', 'recv/sent', 'broker CPU', 'µs CPU/msg', 'msg/CPU-s', 'RSS', 'runs k msg/s'],
        rows,
        note: 'sent: what the publishers handed to their sockets (TCP back-pressure throttles them). recv/sent is approximate ' +
          '(socket buffers hold thousands of messages); well under 100% means the broker dropped QoS 0.',
      }],
      verdicts,
      notes,
    }
  },
}
