import mqtt from 'mqtt'
import { Scope, sleep, startWorker, type Worker } from './lib/proc.js'
import { mb, median, pairedRatio, pct, percentile, rotate, spread, type Bench, type BenchReport, type Cell, type Verdict } from './lib/report.js'
import type { ColonyInfo, Mark, SpawnResult } from './workers/colony.js'

/**
 * Heartbeat scale: N echo actors in a real Colony (its own process) beat every second through the embedded
 * broker to one external mqtt.js subscriber on `agents/+/heartbeat` (this process). Only beats whose
 * `timestampMs` falls inside the window count, so each actor owes exactly window/interval beats whatever
 * its phase. A runtime with no extra actors is the CPU baseline. Each round measures every size, in an order
 * rotated per round; CPU is read for the runtime and for this process (the subscriber).
 */
const INTERVAL_MS = 1000
const WARMUP_MS = 2500
/** How long beats stamped inside the window may take to arrive before we stop listening. */
const GRACE_MS = 1500
const SIZES = [0, 1000, 10_000]
/** The scale case: this many actors beating every SCALE_INTERVAL_MS (as configured by default), memory watched. */
const SCALE_ACTORS = 100_000
const SCALE_INTERVAL_MS = 10_000
const SCALE_WINDOW_S = 20
/** Live heap (after a full collection) at the end of the window over the start: "flat" allows 5 %. */
const SCALE_HEAP_GROWTH_MAX = 1.05
const PREFIX = 'bench-'

interface Heartbeat { agentId?: string, agentName?: string, timestampMs?: number }

interface SizeResult {
  actors: number
  windowS: number
  expected: number
  delivered: number
  extra: number
  actorsSeen: number
  actorsShort: number
  actorsOver: number
  published: number
  deferred: number
  /** Beats missing from the stream (gaps of two or more intervals), whatever the window edges did. */
  lost: number
  cpuPct: number
  cpuUs: number
  /** This process (the mqtt.js subscriber) over the same window. */
  subscriberCpuUs: number
  /** The runtime's own measure of the window, for CPU per second. */
  wallMs: number
  rssBytes: number
  heapBytes: number
  latency: { p50: number, p99: number, max: number }
  spawnMs: number
  /** Scale case: from the forced collection before the window until no beat was being deferred. */
  settleMs: number
  exitedCleanly: boolean
  intervalMs: number
  /** Live heap and RSS after a full collection before and after the window (scale case only). */
  memory?: { heapStart: number, heapEnd: number, rssStart: number, rssEnd: number }
}

async function measure (actors: number, windowS: number, intervalMs = INTERVAL_MS, watchMemory = false): Promise<SizeResult> {
  const INTERVAL_MS = intervalMs
  const scope = new Scope()
  try {
    const worker = startWorker('colony', `colony-${actors}`, { heartbeatIntervalMs: INTERVAL_MS, maxActors: actors + 1000 }, watchMemory ? ['--expose-gc'] : [])
    scope.defer(() => worker.kill())
    const info = await worker.ready<ColonyInfo>()
    const sub = await mqtt.connectAsync(info.mqttUrl, { reconnectPeriod: 0, clientId: `bench-hb-sub-${process.pid}` })
    scope.defer(() => sub.endAsync(true))

    let from = Infinity
    let to = -Infinity
    const perActor = new Map<string, number>()
    /** Every stamp from one interval before the window to one after: gaps between them reveal lost beats. */
    const stamps = new Map<string, number[]>()
    const latencies: number[] = []
    sub.on('message', (_topic, payload) => {
      const hb = JSON.parse(payload.toString('utf8')) as Heartbeat
      const ts = hb.timestampMs ?? 0
      if (hb.agentName?.startsWith(PREFIX) !== true) return
      if (ts >= from - INTERVAL_MS && ts < to + INTERVAL_MS) {
        const list = stamps.get(hb.agentId ?? '') ?? []
        list.push(ts)
        stamps.set(hb.agentId ?? '', list)
      }
      if (ts < from || ts >= to) return
      perActor.set(hb.agentId ?? '', (perActor.get(hb.agentId ?? '') ?? 0) + 1)
      latencies.push(Date.now() - ts)
    })
    await sub.subscribeAsync('agents/+/heartbeat', { qos: 0 })

    const spawned = await worker.request<SpawnResult>('spawn', { count: actors, prefix: PREFIX })
    if (spawned.running !== actors) throw new Error(`only ${spawned.running} of ${actors} actors are running`)
    await sleep(WARMUP_MS)

    const g0 = watchMemory ? await worker.request<Mark>('gcMark') : undefined
    // A forced full collection of a ~840 MB heap stops the runtime for seconds (V8's own collections are
    // incremental): every beat due meanwhile leaves at once and the bus defers most of them. The window starts
    // once that burst has drained, so it measures the runtime and not the bench's `gc()`.
    const settleMs = g0 === undefined ? 0 : await settled(worker)
    from = Date.now()
    to = from + windowS * 1000
    const s0 = process.cpuUsage()
    const m0 = await worker.request<Mark>('mark')
    await sleep(to - Date.now())
    const m1 = await worker.request<Mark>('mark')
    const s1 = process.cpuUsage(s0)
    const g1 = watchMemory ? await worker.request<Mark>('gcMark') : undefined
    await sleep(GRACE_MS)
    to = -Infinity

    await sub.endAsync()
    const exitedCleanly = await worker.close()
    const perWindow = (windowS * 1000) / INTERVAL_MS
    const counts = [...perActor.values()]
    // A lost beat shows as a gap of about two intervals between an actor's consecutive beats; unlike a count inside
    // the window, this is not fooled by timer lateness moving a beat across the window's edges. A beat deferred by d
    // and the on-time one after it leave gaps of interval + d and interval - d, with nothing missing: the floor with
    // a quarter interval of slack counts a missing beat (less timer jitter) and forgives lateness up to 3/4 of an
    // interval, where rounding counted d >= interval / 2 as a loss.
    let lost = (actors - stamps.size) * (perWindow + 2)
    for (const list of stamps.values()) {
      list.sort((a, b) => a - b)
      for (let i = 1; i < list.length; i++) {
        const gap = (list[i] as number) - (list[i - 1] as number)
        lost += Math.max(0, Math.floor((gap + INTERVAL_MS / 4) / INTERVAL_MS) - 1)
      }
    }
    latencies.sort((a, b) => a - b)
    return {
      actors,
      windowS,
      expected: actors * perWindow,
      // An actor owes `perWindow` beats; extra ones (a deferred beat sent late, then the next on time) must
      // not hide another actor's missing beats, so each actor counts at most `perWindow`.
      delivered: counts.reduce((s, c) => s + Math.min(c, perWindow), 0),
      extra: counts.reduce((s, c) => s + Math.max(0, c - perWindow), 0),
      lost,
      actorsSeen: perActor.size,
      actorsShort: actors - counts.filter((c) => c >= perWindow).length,
      actorsOver: counts.filter((c) => c > perWindow).length,
      published: m1.heartbeatsPublished - m0.heartbeatsPublished,
      deferred: m1.heartbeatsDeferred - m0.heartbeatsDeferred,
      cpuUs: m1.cpuUs - m0.cpuUs,
      subscriberCpuUs: s1.user + s1.system,
      wallMs: m1.wallMs - m0.wallMs,
      cpuPct: (m1.cpuUs - m0.cpuUs) / 1000 / (m1.wallMs - m0.wallMs),
      rssBytes: m1.rssBytes,
      heapBytes: m1.heapUsedBytes,
      latency: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? NaN },
      spawnMs: spawned.ms,
      settleMs,
      exitedCleanly,
      intervalMs,
      ...(g0 !== undefined && g1 !== undefined && { memory: { heapStart: g0.heapUsedBytes, heapEnd: g1.heapUsedBytes, rssStart: g0.rssBytes, rssEnd: g1.rssBytes } }),
    }
  } finally {
    await scope.close()
  }
}

/** How long the deferred-beat count must stay unchanged (every retry counts) before the runtime is settled. */
const SETTLE_QUIET_MS = 300
const SETTLE_MAX_MS = 30_000

/** Resolves with how long it took for the runtime to stop deferring beats (it retries a deferred one every 5 ms). */
async function settled (worker: Worker): Promise<number> {
  const t0 = performance.now()
  let last = (await worker.request<Mark>('mark')).heartbeatsDeferred
  while (performance.now() - t0 < SETTLE_MAX_MS) {
    await sleep(SETTLE_QUIET_MS)
    const now = (await worker.request<Mark>('mark')).heartbeatsDeferred
    if (now === last) break
    last = now
  }
  return performance.now() - t0
}

/** The budget for 10 000 actors beating at 1 Hz: the runtime process's CPU, in % of one core. */
const CPU_TARGET_ACTORS = 10_000
const CPU_TARGET_PCT = 15

export const heartbeatBench: Bench = {
  name: 'heartbeat',
  description: `${SIZES.filter((n) => n > 0).join(' and ')} actors beating every ${INTERVAL_MS} ms, and ${SCALE_ACTORS} every ${SCALE_INTERVAL_MS} ms, to one external mqtt.js subscriber`,
  // Over 100 s a round, and the runtime is measured alone: three rounds agreed within 10 % between full runs.
  defaultRounds: 3,
  async run (options) {
    const windowS = options.windowS ?? 6
    const bySize = new Map<number, SizeResult[]>(SIZES.map((n) => [n, []]))
    for (let round = 0; round < options.rounds; round++) {
      for (const n of rotate(SIZES, round)) {
        // The idle baseline needs no long window: it only sets the CPU floor.
        const w = n === 0 ? Math.min(windowS, 5) : windowS
        process.stderr.write(`[bench] heartbeat: round ${round + 1}/${options.rounds}, ${n} actors, ${w} s window\n`)
        bySize.get(n)?.push(await measure(n, w))
      }
    }
    const scale: SizeResult[] = []
    for (let round = 0; round < options.rounds; round++) {
      process.stderr.write(`[bench] heartbeat: round ${round + 1}/${options.rounds}, ${SCALE_ACTORS} actors every ${SCALE_INTERVAL_MS / 1000} s, ${SCALE_WINDOW_S} s window\n`)
      scale.push(await measure(SCALE_ACTORS, SCALE_WINDOW_S, SCALE_INTERVAL_MS, true))
    }
    const all = (n: number): SizeResult[] => bySize.get(n) ?? []
    const idleCpu = median(all(0).map((r) => r.cpuPct))
    const label = (n: number): string => (n === 0 ? 'idle runtime (baseline)' : `${n.toLocaleString('en-US')} actors`)
    const sum = (rs: SizeResult[], f: (r: SizeResult) => number): number => rs.reduce((s, r) => s + f(r), 0)
    const loaded = SIZES.filter((n) => n > 0)
    const delivery: Cell[][] = loaded.map((n) => {
      const rs = all(n)
      const expected = sum(rs, (r) => r.expected)
      const delivered = sum(rs, (r) => r.delivered)
      return [
        label(n), expected, delivered, pct(delivered / expected), rs.map((r) => `${r.actorsShort}/${r.actorsOver}`).join(' '), sum(rs, (r) => r.extra),
        spread(rs.map((r) => r.published / r.windowS)), sum(rs, (r) => r.deferred), sum(rs, (r) => r.lost),
        `${median(rs.map((r) => r.latency.p50))}/${median(rs.map((r) => r.latency.p99))}/${Math.max(...rs.map((r) => r.latency.max))}`,
      ]
    })
    const beats = (r: SizeResult): number => r.delivered + r.extra
    const cost: Cell[][] = SIZES.map((n) => {
      const rs = all(n)
      // CPU above the idle runtime, per beat delivered: the cost of the heartbeat path itself.
      const net = n === 0 ? '-' : spread(rs.map((r) => (r.cpuUs - idleCpu * r.wallMs * 1000) / beats(r)))
      return [label(n), spread(rs.map((r) => r.cpuPct * 100), (x) => `${x.toFixed(1)}%`),
        n === 0 ? '-' : spread(rs.map((r) => r.cpuUs / beats(r))), net,
        n === 0 ? '-' : spread(rs.map((r) => r.subscriberCpuUs / beats(r))), mb(median(rs.map((r) => r.rssBytes))),
        mb(median(rs.map((r) => r.heapBytes))), n === 0 ? '-' : Math.round(median(rs.map((r) => r.spawnMs)))]
    })
    const verdicts: Verdict[] = loaded.map((n) => {
      const rs = all(n)
      const expected = sum(rs, (r) => r.expected)
      const lost = sum(rs, (r) => r.lost)
      return {
        name: `heartbeat ${n} actors delivered/expected`,
        ratio: (expected - lost) / expected,
        target: 1,
        detail: `${expected - lost} of ${expected} beats over ${rs.length} rounds (${lost} lost; ${sum(rs, (r) => r.delivered)} stamped inside the windows)`,
      }
    })
    const scaleExpected = sum(scale, (r) => r.expected)
    const scaleLost = sum(scale, (r) => r.lost)
    const growth = (r: SizeResult): number => (r.memory === undefined ? NaN : r.memory.heapEnd / r.memory.heapStart)
    verdicts.push({
      name: `heartbeat ${SCALE_ACTORS} actors @${SCALE_INTERVAL_MS / 1000} s delivered/expected`,
      ratio: (scaleExpected - scaleLost) / scaleExpected,
      target: 1,
      detail: `${scaleExpected - scaleLost} of ${scaleExpected} beats over ${scale.length} rounds (${scaleLost} lost)`,
    }, {
      name: `heartbeat ${SCALE_ACTORS} actors @${SCALE_INTERVAL_MS / 1000} s: live heap end/start of the window`,
      ratio: median(scale.map(growth)),
      targetMax: SCALE_HEAP_GROWTH_MAX,
      detail: `median (min..max) ${spread(scale.map(growth), (x) => x.toFixed(3))} after a full collection at each end of ${SCALE_WINDOW_S} s windows`,
    })
    const big = all(CPU_TARGET_ACTORS)
    verdicts.push({
      name: `heartbeat ${CPU_TARGET_ACTORS} actors @${1000 / INTERVAL_MS} Hz: runtime CPU`,
      ratio: median(big.map((r) => r.cpuPct * 100)),
      targetMax: CPU_TARGET_PCT,
      unit: '% of a core',
      detail: `median (min..max) ${spread(big.map((r) => r.cpuPct * 100), (x) => x.toFixed(1))} % of one core over ${big.length} rounds, ` +
        `the whole runtime process (idle runtime ${(idleCpu * 100).toFixed(1)} %)`,
    }, {
      // The CPU share above is absolute, so it moves with the VM's speed (up to ~25 % between runs here). The
      // subscriber reads the same beats in the same window: per beat, it is a yardstick from the same moment.
      name: `heartbeat ${CPU_TARGET_ACTORS} actors @${1000 / INTERVAL_MS} Hz: runtime / subscriber CPU per beat`,
      ratio: pairedRatio(big.map((r) => r.cpuUs / beats(r)), big.map((r) => r.subscriberCpuUs / beats(r))),
      detail: `${spread(big.map((r) => r.cpuUs / beats(r)))} vs ${spread(big.map((r) => r.subscriberCpuUs / beats(r)))} µs per beat: ` +
        'the runtime making, routing and writing a beat vs mqtt.js reading and JSON.parse-ing it',
    })
    const notes = [...SIZES.flatMap((n) => all(n)), ...scale].filter((r) => !r.exitedCleanly).map((r) => `a ${r.actors}-actor runtime did not exit by itself after close()`)
    const report: BenchReport = {
      tables: [{
        title: `Heartbeat delivery at ${INTERVAL_MS} ms, ${windowS} s window, runtime in its own process, ${options.rounds} rounds (counts summed)`,
        columns: ['run', 'expected', 'delivered', 'ratio', 'short/over per round', 'extra', 'published/s', 'deferred', 'lost', 'latency ms p50/p99/max'],
        rows: delivery,
        note: 'delivered: beats stamped inside the window, at most window/interval per actor; short/over: actors with fewer / ' +
          'more than that; extra: beats above it (not in delivered). published/s: beats the runtime handed to the broker, ' +
          'its system actors too. deferred: beats postponed (and coalesced) because the bus was saturated. lost: beats missing from the stream of an actor (a gap of two intervals or more, less a quarter for timer jitter; a beat late by up to 3/4 of an interval is not lost); short/over can be non-zero without loss when timer lateness moves a beat across a window edge. latency: receive time - timestampMs (medians of the rounds\' p50/p99, max of all).',
      }, {
        title: `Cost over the same windows, median (min..max) of ${options.rounds} rounds`,
        columns: ['run', 'runtime CPU', 'runtime µs/beat', 'net µs/beat', 'subscriber µs/beat', 'RSS', 'heap used', 'spawn ms'],
        rows: cost,
        note: 'runtime CPU: process.cpuUsage() of the runtime process, % of one core. runtime µs/beat: all of it per beat received; net: above the idle baseline. ' +
          'subscriber µs/beat: this process (mqtt.js, JSON.parse of every beat).',
      }, {
        title: `${SCALE_ACTORS.toLocaleString('en-US')} actors beating every ${SCALE_INTERVAL_MS / 1000} s, ${SCALE_WINDOW_S} s window, ${scale.length} rounds`,
        columns: ['round', 'expected', 'delivered', 'lost', 'published/s', 'deferred', 'runtime CPU', 'µs/beat', 'live heap start → end', 'RSS start → end', 'latency ms p50/p99/max', 'spawn s', 'settle s'],
        rows: scale.map((r, i) => [
          i + 1, r.expected, r.delivered, r.lost, Math.round(r.published / r.windowS), r.deferred, `${(r.cpuPct * 100).toFixed(1)}%`,
          (r.cpuUs / Math.max(1, r.delivered + r.extra)).toFixed(1),
          r.memory === undefined ? '-' : `${mb(r.memory.heapStart)} → ${mb(r.memory.heapEnd)}`,
          r.memory === undefined ? '-' : `${mb(r.memory.rssStart)} → ${mb(r.memory.rssEnd)}`,
          `${r.latency.p50}/${r.latency.p99}/${r.latency.max}`, (r.spawnMs / 1000).toFixed(1), (r.settleMs / 1000).toFixed(1),
        ]),
        note: 'live heap and RSS are read after a full collection (the runtime runs with --expose-gc for this) just before and just after the window; ' +
          'settle: the window starts once the beats held up by that first collection have left (the deferred count stopped moving for ' +
          `${SETTLE_QUIET_MS} ms); lost: gaps in an actor's beat stream, as above.`,
      }],
      verdicts,
      notes,
    }
    return report
  },
}
