/**
 * Wrenn's team stats over time (`GET /v1/capsules/stats?range=`): every 10 s each team's running count, reserved
 * vCPUs and memory are noted (zeros included); `series` is the MAX per bucket over the range, `peaks` the maxima
 * over 30 days. Kept in memory: 10 s points for 24 h, then 6 h maxima for 30 days (a restart starts them again).
 */
import { ColonyError } from '../errors.js'

export interface TeamPoint { atMs: number, running: number, vcpus: number, memoryMb: number }

export type StatsRange = '5m' | '1h' | '6h' | '24h' | '30d'

/** Wrenn's ranges and their bucket widths. */
export const STATS_RANGES: Readonly<Record<StatsRange, { windowMs: number, bucketMs: number }>> = {
  '5m': { windowMs: 5 * 60_000, bucketMs: 3_000 },
  '1h': { windowMs: 3_600_000, bucketMs: 30_000 },
  '6h': { windowMs: 6 * 3_600_000, bucketMs: 180_000 },
  '24h': { windowMs: 24 * 3_600_000, bucketMs: 720_000 },
  '30d': { windowMs: 30 * 86_400_000, bucketMs: 21_600_000 },
}
export const TEAM_SAMPLE_MS = 10_000
const FINE_KEEP_MS = 24 * 3_600_000
const COARSE_MS = 6 * 3_600_000
const COARSE_KEEP_MS = 30 * 86_400_000

export function statsRange (range: string | undefined): StatsRange {
  if (range === undefined || range === '') return '5m'
  if (Object.hasOwn(STATS_RANGES, range)) return range as StatsRange
  throw new ColonyError('invalid_query', `range must be one of ${Object.keys(STATS_RANGES).join(', ')}`, { details: { field: 'range' } })
}

export interface TeamSeries { labels: string[], running: number[], vcpus: number[], memory_mb: number[] }
export interface TeamPeaks { running_count: number, vcpus: number, memory_mb: number }

const max = (a: TeamPoint, b: TeamPoint): TeamPoint =>
  ({ atMs: Math.max(a.atMs, b.atMs), running: Math.max(a.running, b.running), vcpus: Math.max(a.vcpus, b.vcpus), memoryMb: Math.max(a.memoryMb, b.memoryMb) })

/** One team's points. */
export class TeamHistory {
  private fine: TeamPoint[] = []
  private coarse: TeamPoint[] = []

  add (p: TeamPoint): void {
    this.fine.push(p)
    const cut = p.atMs - FINE_KEEP_MS
    while (this.fine.length > 0 && (this.fine[0] as TeamPoint).atMs < cut) {
      const old = this.fine.shift() as TeamPoint
      // Folded into its 6 h bucket: the 30-day view keeps maxima only.
      const bucket = Math.floor(old.atMs / COARSE_MS) * COARSE_MS
      const last = this.coarse.at(-1)
      if (last !== undefined && Math.floor(last.atMs / COARSE_MS) * COARSE_MS === bucket) this.coarse[this.coarse.length - 1] = max(last, old)
      else this.coarse.push(old)
    }
    while (this.coarse.length > 0 && (this.coarse[0] as TeamPoint).atMs < p.atMs - COARSE_KEEP_MS) this.coarse.shift()
  }

  private points (): TeamPoint[] {
    return [...this.coarse, ...this.fine]
  }

  series (range: StatsRange, nowMs: number): TeamSeries {
    const { windowMs, bucketMs } = STATS_RANGES[range]
    const buckets = new Map<number, TeamPoint>()
    for (const p of this.points()) {
      if (p.atMs < nowMs - windowMs) continue
      const b = Math.floor(p.atMs / bucketMs) * bucketMs
      const seen = buckets.get(b)
      buckets.set(b, seen === undefined ? { ...p, atMs: b } : max(seen, { ...p, atMs: b }))
    }
    const out: TeamSeries = { labels: [], running: [], vcpus: [], memory_mb: [] }
    for (const [at, p] of [...buckets.entries()].sort((a, b) => a[0] - b[0])) {
      out.labels.push(new Date(at).toISOString())
      out.running.push(p.running)
      out.vcpus.push(p.vcpus)
      out.memory_mb.push(p.memoryMb)
    }
    return out
  }

  peaks (nowMs: number): TeamPeaks {
    const peak = { running_count: 0, vcpus: 0, memory_mb: 0 }
    for (const p of this.points()) {
      if (p.atMs < nowMs - COARSE_KEEP_MS) continue
      peak.running_count = Math.max(peak.running_count, p.running)
      peak.vcpus = Math.max(peak.vcpus, p.vcpus)
      peak.memory_mb = Math.max(peak.memory_mb, p.memoryMb)
    }
    return peak
  }
}
