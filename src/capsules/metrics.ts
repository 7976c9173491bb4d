/**
 * A capsule's resource metrics as Wrenn keeps them: three fixed ring buffers, the coarser two made of averages of
 * the finer one. Pure bookkeeping (no timers, no I/O): the sampler that reads the cgroup every 500 ms pushes here,
 * the REST route reads a range, pause and restart carry the tiers over with `toJSON()` / `fromJSON()`.
 *
 * | tier | resolution | capacity | window |
 * |---|---|---|---|
 * | `10m` | one 500 ms sample | 1200 | 10 min |
 * | `2h` | average of 60 consecutive samples (30 s) | 240 | 2 h |
 * | `24h` | average of 10 consecutive `2h` points (5 min) | 288 | 24 h |
 *
 * An averaged point carries the timestamp of the last point it averages.
 */
import { ColonyError } from '../errors.js'

/** One reading of a capsule (cumulative CPU already turned into a percentage, see `cpuPercent`). */
export interface MetricSample {
  timestampMs: number
  /** 0..100: the share of the capsule's vCPUs used since the previous sample. */
  cpuPct: number
  memoryBytes: number
  diskBytes: number
}

export type MetricTier = '10m' | '2h' | '24h'

/** The ranges `GET /v1/capsules/{id}/metrics?range=` accepts (Wrenn's), each read from one tier. */
export type MetricRange = '5m' | '10m' | '1h' | '2h' | '6h' | '12h' | '24h'

const MINUTE = 60_000

/** Each range's tier and window. */
export const METRIC_RANGES: Readonly<Record<MetricRange, { tier: MetricTier, windowMs: number }>> = Object.freeze({
  '5m': { tier: '10m', windowMs: 5 * MINUTE },
  '10m': { tier: '10m', windowMs: 10 * MINUTE },
  '1h': { tier: '2h', windowMs: 60 * MINUTE },
  '2h': { tier: '2h', windowMs: 120 * MINUTE },
  '6h': { tier: '24h', windowMs: 6 * 60 * MINUTE },
  '12h': { tier: '24h', windowMs: 12 * 60 * MINUTE },
  '24h': { tier: '24h', windowMs: 24 * 60 * MINUTE },
})

export const DEFAULT_METRIC_RANGE: MetricRange = '10m'

/** Capacity of each tier, and how many points of the finer tier one point of it averages. */
export const METRIC_TIERS: Readonly<Record<MetricTier, { capacity: number, averages: number }>> = Object.freeze({
  '10m': { capacity: 1200, averages: 1 },
  '2h': { capacity: 240, averages: 60 },
  '24h': { capacity: 288, averages: 10 },
})

const TIER_ORDER: readonly MetricTier[] = ['10m', '2h', '24h']

/** `range` as a known range, or `invalid_query` naming it (Wrenn answers 400 for anything else). */
export function metricRange (range: string | undefined): MetricRange {
  if (range === undefined || range === '') return DEFAULT_METRIC_RANGE
  if (Object.hasOwn(METRIC_RANGES, range)) return range as MetricRange
  throw new ColonyError('invalid_query', `range must be one of ${Object.keys(METRIC_RANGES).join(', ')}`, { details: { field: 'range' } })
}

/** A fixed-capacity ring: pushing onto a full one drops the oldest point. */
class Ring {
  readonly #points: Array<MetricSample | undefined>
  #start = 0
  #size = 0

  constructor (readonly capacity: number) {
    this.#points = new Array<MetricSample | undefined>(capacity)
  }

  get size (): number {
    return this.#size
  }

  push (point: MetricSample): void {
    const end = (this.#start + this.#size) % this.capacity
    this.#points[end] = point
    if (this.#size < this.capacity) this.#size++
    else this.#start = (this.#start + 1) % this.capacity
  }

  /** The points, oldest first. */
  toArray (): MetricSample[] {
    const out: MetricSample[] = []
    for (let i = 0; i < this.#size; i++) out.push(this.#points[(this.#start + i) % this.capacity]!)
    return out
  }

  /** The newest point, if any. */
  last (): MetricSample | undefined {
    return this.#size === 0 ? undefined : this.#points[(this.#start + this.#size - 1) % this.capacity]
  }

  clear (): void {
    this.#points.fill(undefined)
    this.#start = 0
    this.#size = 0
  }
}

/** The points of a tier not yet averaged into the next one. */
class Pending {
  points: MetricSample[] = []

  constructor (readonly needs: number) {}

  /** Adds `point`; when `needs` are gathered, their average (timestamp of the last) and a fresh start. */
  add (point: MetricSample): MetricSample | undefined {
    this.points.push(point)
    if (this.points.length < this.needs) return undefined
    const avg = average(this.points)
    this.points = []
    return avg
  }
}

function average (points: readonly MetricSample[]): MetricSample {
  let cpu = 0
  let memory = 0
  let disk = 0
  for (const p of points) {
    cpu += p.cpuPct
    memory += p.memoryBytes
    disk += p.diskBytes
  }
  const n = points.length
  return {
    timestampMs: points[n - 1]!.timestampMs,
    cpuPct: cpu / n,
    memoryBytes: Math.round(memory / n),
    diskBytes: Math.round(disk / n),
  }
}

/** What `toJSON()` gives and `fromJSON()` takes: every tier oldest first, and the samples not yet averaged. */
export interface MetricsSnapshot {
  version: 1
  tiers: Record<MetricTier, MetricSample[]>
  /** Samples waiting to make the next `2h` point, and `2h` points waiting to make the next `24h` one. */
  pending: { '2h': MetricSample[], '24h': MetricSample[] }
}

/** One capsule's three tiers. */
export class CapsuleMetrics {
  readonly #rings: Record<MetricTier, Ring> = {
    '10m': new Ring(METRIC_TIERS['10m'].capacity),
    '2h': new Ring(METRIC_TIERS['2h'].capacity),
    '24h': new Ring(METRIC_TIERS['24h'].capacity),
  }

  /** Toward the next `2h` point (60 samples) and the next `24h` point (10 `2h` points). */
  readonly #pending = { '2h': new Pending(METRIC_TIERS['2h'].averages), '24h': new Pending(METRIC_TIERS['24h'].averages) }

  /** Records one 500 ms sample; every 60th makes a `2h` point, every 10th of those a `24h` point. */
  push (sample: MetricSample): void {
    const point = checkSample(sample)
    this.#rings['10m'].push(point)
    const mid = this.#pending['2h'].add(point)
    if (mid === undefined) return
    this.#rings['2h'].push(mid)
    const coarse = this.#pending['24h'].add(mid)
    if (coarse !== undefined) this.#rings['24h'].push(coarse)
  }

  /**
   * The points of `range`'s tier no older than the range (`timestampMs >= nowMs - window`), oldest first. `nowMs`
   * defaults to the newest point's time, so a paused capsule's history reads as it was when it paused.
   */
  range (range: string, nowMs?: number): MetricSample[] {
    const { tier, windowMs } = METRIC_RANGES[metricRange(range)]
    const from = (nowMs ?? this.#newest()) - windowMs
    return this.#rings[tier].toArray().filter((p) => p.timestampMs >= from).map((p) => ({ ...p }))
  }

  /** The newest time any tier holds (a finer tier is never behind a coarser one, unless only coarse ones were kept). */
  #newest (): number {
    let newest = -Infinity
    for (const tier of TIER_ORDER) newest = Math.max(newest, this.#rings[tier].last()?.timestampMs ?? -Infinity)
    return newest
  }

  /** One tier whole, oldest first. */
  tier (tier: MetricTier): MetricSample[] {
    return this.#rings[tier].toArray().map((p) => ({ ...p }))
  }

  /** Whether nothing was recorded (or everything was flushed). */
  get empty (): boolean {
    return this.#rings['10m'].size === 0 && this.#rings['2h'].size === 0 && this.#rings['24h'].size === 0
  }

  toJSON (): MetricsSnapshot {
    return {
      version: 1,
      tiers: { '10m': this.tier('10m'), '2h': this.tier('2h'), '24h': this.tier('24h') },
      pending: { '2h': this.#pending['2h'].points.map((p) => ({ ...p })), '24h': this.#pending['24h'].points.map((p) => ({ ...p })) },
    }
  }

  /** Every tier as `toJSON()` gives it, and the tiers emptied (Wrenn's flush at pause). */
  flush (): MetricsSnapshot {
    const snapshot = this.toJSON()
    for (const tier of TIER_ORDER) this.#rings[tier].clear()
    this.#pending['2h'].points = []
    this.#pending['24h'].points = []
    return snapshot
  }

  /** The tiers a `toJSON()` saved (points beyond a tier's capacity: the newest are kept). Throws on anything else. */
  static fromJSON (value: unknown): CapsuleMetrics {
    const snapshot = checkSnapshot(value)
    const metrics = new CapsuleMetrics()
    for (const tier of TIER_ORDER) for (const p of snapshot.tiers[tier]) metrics.#rings[tier].push(p)
    metrics.#pending['2h'].points = snapshot.pending['2h'].slice(-(METRIC_TIERS['2h'].averages - 1))
    metrics.#pending['24h'].points = snapshot.pending['24h'].slice(-(METRIC_TIERS['24h'].averages - 1))
    return metrics
  }
}

/** A point as Wrenn's `GET /v1/capsules/{id}/metrics` lists it. */
export interface WireMetricPoint {
  timestamp_unix: number
  cpu_pct: number
  mem_bytes: number
  disk_bytes: number
}

/** Wrenn's response: `{sandbox_id, range, points: [{timestamp_unix, cpu_pct, mem_bytes, disk_bytes}]}`. */
export function metricsResponse (capsuleId: string, range: MetricRange, points: readonly MetricSample[]): { sandbox_id: string, range: MetricRange, points: WireMetricPoint[] } {
  return {
    sandbox_id: capsuleId,
    range,
    points: points.map((p) => ({
      timestamp_unix: Math.floor(p.timestampMs / 1000),
      cpu_pct: p.cpuPct,
      mem_bytes: p.memoryBytes,
      disk_bytes: p.diskBytes,
    })),
  }
}

/** A cumulative CPU-time reading (cgroup `cpu.stat` usage, in nanoseconds) and when it was taken. */
export interface CpuReading {
  atMs: number
  cpuNs: number
}

/**
 * The CPU used between two readings as a share of `vcpus` whole CPUs over the same time, 0..100 (Wrenn's
 * Δcpu / (elapsed × vCPUs) × 100, clamped). No time elapsed, a counter that went backwards (a restart) or no vCPU: 0.
 */
export function cpuPercent (previous: CpuReading, current: CpuReading, vcpus: number): number {
  const elapsedNs = (current.atMs - previous.atMs) * 1e6
  const usedNs = current.cpuNs - previous.cpuNs
  if (!(elapsedNs > 0) || !(usedNs > 0) || !(vcpus > 0)) return 0
  return Math.min(100, (usedNs / (elapsedNs * vcpus)) * 100)
}

function isFiniteAtLeast (value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min
}

function checkSample (value: unknown): MetricSample {
  const s = value as Partial<MetricSample> | null
  if (typeof s !== 'object' || s === null || !isFiniteAtLeast(s.timestampMs, 0) || !isFiniteAtLeast(s.cpuPct, 0) ||
    !isFiniteAtLeast(s.memoryBytes, 0) || !isFiniteAtLeast(s.diskBytes, 0)) {
    throw new TypeError(`a metric sample needs finite, non-negative timestampMs, cpuPct, memoryBytes and diskBytes: ${JSON.stringify(value)}`)
  }
  return { timestampMs: s.timestampMs, cpuPct: s.cpuPct, memoryBytes: s.memoryBytes, diskBytes: s.diskBytes }
}

function checkSnapshot (value: unknown): MetricsSnapshot {
  const s = value as Partial<MetricsSnapshot> | null
  if (typeof s !== 'object' || s === null || s.version !== 1 || typeof s.tiers !== 'object' || s.tiers === null ||
    typeof s.pending !== 'object' || s.pending === null) {
    throw new TypeError('not a capsule metrics snapshot (version 1)')
  }
  const list = (v: unknown, what: string): MetricSample[] => {
    if (!Array.isArray(v)) throw new TypeError(`capsule metrics snapshot: ${what} is not a list`)
    return v.map(checkSample)
  }
  return {
    version: 1,
    tiers: { '10m': list(s.tiers['10m'], 'tier 10m'), '2h': list(s.tiers['2h'], 'tier 2h'), '24h': list(s.tiers['24h'], 'tier 24h') },
    pending: { '2h': list(s.pending['2h'], 'pending 2h'), '24h': list(s.pending['24h'], 'pending 24h') },
  }
}
