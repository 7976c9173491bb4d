/** Tables and verdicts: every benchmark returns these and `run.ts` prints them the same way. */

export type Cell = string | number
export interface Table { title: string, columns: string[], rows: Cell[][], note?: string }

/** A ratio against a baseline measured in the same run, with the target when there is one. */
export interface Verdict {
  name: string
  ratio: number
  /** The ratio must be at least this (undefined: informational). */
  target?: number
  /** The value must be at most this: for costs (a latency ratio, or a difference in `unit`). */
  targetMax?: number
  /** Set when the value is a difference, not a ratio (e.g. 'µs'). */
  unit?: string
  detail: string
}

export interface BenchReport { tables: Table[], verdicts: Verdict[], notes: string[] }

export function renderTable (t: Table): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))]
  const widths = t.columns.map((_c, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]): string => r.map((c, i) => {
    const w = widths[i] ?? 0
    // Text left, numbers right, so columns of figures line up.
    return i === 0 || !/^[-+]?[\d.,]+( ?[%a-zA-Zµ/]+)?$/.test(c) ? c.padEnd(w) : c.padStart(w)
  }).join('  ').trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  const out = [`${t.title}`, line(t.columns), rule, ...cells.slice(1).map(line)]
  if (t.note !== undefined) out.push(t.note)
  return out.join('\n')
}

/** PASS / BELOW TARGET / ABOVE TARGET / NOT MEASURED (a target whose value could not be computed) / info. */
export type VerdictStatus = 'PASS' | 'BELOW TARGET' | 'ABOVE TARGET' | 'NOT MEASURED' | 'info'

export function verdictStatus (v: Verdict): VerdictStatus {
  if (v.target === undefined && v.targetMax === undefined) return 'info'
  // A missing baseline or an empty window gives NaN: a target nobody could check is not met.
  if (!Number.isFinite(v.ratio)) return 'NOT MEASURED'
  if (v.target !== undefined && !(v.ratio >= v.target)) return 'BELOW TARGET'
  if (v.targetMax !== undefined && !(v.ratio <= v.targetMax)) return 'ABOVE TARGET'
  return 'PASS'
}

/** The verdicts `--check` fails on: every one with a target that is missed or was not measured. */
export function missedTargets (verdicts: Verdict[]): Verdict[] {
  return verdicts.filter((v) => { const s = verdictStatus(v); return s !== 'PASS' && s !== 'info' })
}

export function renderVerdict (v: Verdict): string {
  const unit = v.unit === undefined ? '' : ` ${v.unit}`
  const targets: string[] = []
  if (v.target !== undefined) targets.push(`>= ${v.target}${unit}`)
  if (v.targetMax !== undefined) targets.push(`<= ${v.targetMax}${unit}`)
  const target = targets.length === 0 ? '' : ` (target ${targets.join(', ')})`
  const value = !Number.isFinite(v.ratio) ? String(v.ratio) : v.unit === undefined ? v.ratio.toFixed(4) : `${fmt(v.ratio)}${unit}`
  return `RATIO ${v.name}: ${value}${target}  ${verdictStatus(v)}  — ${v.detail}`
}

/** Median with the spread of the rounds: `median (min..max)`. */
export function spread (xs: number[], show: (n: number) => string = fmt): string {
  if (xs.length === 0) return '-'
  return `${show(median(xs))} (${show(Math.min(...xs))}..${show(Math.max(...xs))})`
}

/**
 * The median of the rounds' own ratios: each round measures both contenders minutes apart at most, so a slow
 * drift of the machine (other tenants, frequency) moves both sides of a round's ratio and cancels, where a ratio
 * of two medians taken from different rounds keeps it.
 */
export function pairedRatio (a: number[], b: number[]): number {
  return median(perRound(a, b, (x, y) => x / y))
}

/** The median of the rounds' own differences `a[k] - b[k]` (what one path adds to another), as `pairedRatio`. */
export function pairedDiff (a: number[], b: number[]): number {
  return median(perRound(a, b, (x, y) => x - y))
}

/** The ratio round by round as `min..max`: how far a median ratio can be trusted on this machine. */
export function roundRatios (a: number[], b: number[]): string {
  const rs = perRound(a, b, (x, y) => x / y)
  if (rs.length === 0) return 'no rounds'
  return `rounds ${Math.min(...rs).toFixed(2)}..${Math.max(...rs).toFixed(2)}`
}

/** One measure of each of a contender's rounds, in round order (what `pairedRatio` and `pairedDiff` pair). */
export function roundsOf<K, T> (runs: ReadonlyMap<K, readonly T[]>, key: K, measure: (run: T) => number): number[] {
  return (runs.get(key) ?? []).map(measure)
}

function perRound (a: number[], b: number[], op: (x: number, y: number) => number): number[] {
  return a.slice(0, Math.min(a.length, b.length)).map((x, k) => op(x, b[k] as number)).filter(Number.isFinite)
}

/**
 * The order of the contenders in round `round`: rotated by one each round, so with at least as many rounds as
 * contenders each one goes first once, and none is always first (cold machine) or last.
 */
export function rotate<T> (items: readonly T[], round: number): T[] {
  const n = items.length
  return items.map((_x, i) => items[(i + round) % n] as T)
}

/** Numbers with a sensible number of digits for a table. */
export function fmt (n: number): string {
  if (!Number.isFinite(n)) return String(n)
  const abs = Math.abs(n)
  if (Number.isInteger(n) || abs >= 1000) return Math.round(n).toLocaleString('en-US')
  if (abs >= 100) return n.toFixed(0)
  if (abs >= 10) return n.toFixed(1)
  return n.toFixed(2)
}

export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number
}

/** Rounds of a bench that declares none. */
export const DEFAULT_ROUNDS = 5

export interface BenchOptions {
  /** Repetitions of each measurement; tables show the median. */
  rounds: number
  /** Length of one measurement window, in seconds (each benchmark has its own default). */
  windowS: number | undefined
}

export interface Bench {
  name: string
  description: string
  /**
   * Rounds when the command line gives none. Five by default: with three, one disturbed round in a bench whose
   * contenders share the two cores moved a median ratio by more than 30 % between full runs. A bench whose rounds
   * are long and steady (one process measured alone) may take fewer.
   */
  defaultRounds?: number
  run(options: BenchOptions): Promise<BenchReport>
}
