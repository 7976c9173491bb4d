/**
 * Two saved `npm run bench` outputs side by side: does a figure reproduce? Reads the `RATIO` lines of each run's
 * summary (the last `=== summary` block, or every `RATIO` line when a run was cut short) and puts each figure next
 * to its counterpart in the other run.
 *
 * A figure printed without a unit is a ratio against a baseline of the same run; one with a unit (µs, ms, % of a
 * core, events/s) is an absolute measurement, which follows the machine's state (its loopback, fsync and stolen CPU)
 * as much as the code. Only ratios decide whether two runs agree; absolute figures are listed apart, as such.
 */

/** One `RATIO` line: its value, the unit when it is an absolute figure, its target (`>= 0.7`) and verdict (`info` when it has none). */
export interface Figure { value: number, unit: string | undefined, target: string | undefined, status: string }

export interface ComparedFigure {
  name: string
  a: Figure | undefined
  b: Figure | undefined
  /** |a - b| over the smaller of the two; NaN when either side is missing or not a number. */
  apart: number
  /** Both runs have it and they are within the tolerance. */
  agrees: boolean
}

export interface Comparison {
  tolerance: number
  ratios: ComparedFigure[]
  absolutes: ComparedFigure[]
}

const SUMMARY = '=== summary'
// `RATIO <name>: <value>[ <unit>][ (target ...)]  <STATUS>  — <detail>`; the name may hold colons, the value never.
const LINE = /^RATIO (.+?): (-?[\d,]*\.?\d+|NaN|-?Infinity)(?: ([^(\s][^(]*?))?(?: \(target ([^)]*)\))?\s{2}(PASS|BELOW TARGET|ABOVE TARGET|NOT MEASURED|info)(?:\s|$)/

/** The figures of one run's output, by name (the last line of a name wins, as the summary repeats each bench's). */
export function parseRun (text: string): Map<string, Figure> {
  const at = text.lastIndexOf(SUMMARY)
  const part = at === -1 ? text : text.slice(at)
  const figures = new Map<string, Figure>()
  for (const line of part.split('\n')) {
    const m = LINE.exec(line)
    if (m === null) continue
    const [, name, value, unit, target, status] = m as unknown as [string, string, string, string | undefined, string | undefined, string]
    figures.set(name, { value: Number(value.replace(/,/g, '')), unit: unit?.trim() || undefined, target, status })
  }
  return figures
}

export function apart (a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return NaN
  if (a === b) return 0
  return Math.abs(a - b) / Math.min(Math.abs(a), Math.abs(b))
}

/** Every figure of either run, in the order run A printed them (then those only B has). */
export function compareRuns (a: Map<string, Figure>, b: Map<string, Figure>, tolerance = 0.15): Comparison {
  const names = [...a.keys(), ...[...b.keys()].filter((n) => !a.has(n))]
  const out: Comparison = { tolerance, ratios: [], absolutes: [] }
  for (const name of names) {
    const [fa, fb] = [a.get(name), b.get(name)]
    const gap = fa === undefined || fb === undefined ? NaN : apart(fa.value, fb.value)
    const figure: ComparedFigure = { name, a: fa, b: fb, apart: gap, agrees: gap <= tolerance }
    const unit = fa?.unit ?? fb?.unit
    ;(unit === undefined ? out.ratios : out.absolutes).push(figure)
  }
  return out
}

/** The ratios that keep two runs from agreeing: apart by more than the tolerance, or measured in one run only. */
export function disagreeing (c: Comparison): ComparedFigure[] {
  return c.ratios.filter((f) => !f.agrees)
}

function show (f: Figure | undefined): string {
  if (f === undefined) return 'missing'
  return `${String(f.value)}${f.unit === undefined ? '' : ` ${f.unit}`}`
}

function row (f: ComparedFigure): string {
  const flag = f.agrees ? '  ' : '!!'
  const gap = Number.isNaN(f.apart) ? '     -' : `${(f.apart * 100).toFixed(1).padStart(6)} %`
  return `${flag} ${gap}  ${show(f.a).padEnd(18)} ${show(f.b).padEnd(18)} ${f.name}${(f.a?.target ?? f.b?.target) !== undefined ? ' [target]' : ''}`
}

export function renderComparison (c: Comparison): string {
  const pct = `${(c.tolerance * 100).toFixed(0)} %`
  const bad = disagreeing(c)
  const movedAbsolutes = c.absolutes.filter((f) => !f.agrees).length
  return [
    `ratios (run A, run B; !! = more than ${pct} apart or missing in one run):`,
    ...c.ratios.map(row),
    '',
    'absolute figures (they follow the machine as much as the code; listed, not judged):',
    ...c.absolutes.map(row),
    '',
    bad.length === 0
      ? `agree: all ${c.ratios.length} ratios within ${pct} (${movedAbsolutes} of ${c.absolutes.length} absolute figures moved more)`
      : `disagree: ${bad.length} of ${c.ratios.length} ratios more than ${pct} apart or missing in one run`,
  ].join('\n')
}

/** The same comparison as a Markdown table, for the README: every figure of both runs, its target and verdicts. */
export function renderMarkdown (c: Comparison, labels: [string, string] = ['A', 'B']): string {
  const verdict = (f: Figure | undefined): string => f === undefined ? '-' : f.status === 'info' ? '' : f.status === 'PASS' ? 'met' : `**${f.status.toLowerCase()}**`
  const line = (f: ComparedFigure): string => {
    const target = f.a?.target ?? f.b?.target ?? ''
    const gap = Number.isNaN(f.apart) ? '-' : `${(f.apart * 100).toFixed(1)} %${f.agrees ? '' : ' **!!**'}`
    const verdicts = target === '' ? '' : `${verdict(f.a)} / ${verdict(f.b)}`
    return `| ${f.name.replace(/\|/g, '\\|')} | ${show(f.a)} | ${show(f.b)} | ${gap} | ${target} | ${verdicts} |`
  }
  const head = [`| figure | ${labels[0]} | ${labels[1]} | apart | target | ${labels[0]} / ${labels[1]} |`, '|---|---|---|---|---|---|']
  // Runs of benches whose verdicts are all ratios (`broker http` alone) have no absolute figure: no heading over nothing.
  const absolutes = c.absolutes.length === 0
    ? []
    : ['', 'Absolute figures (not judged: they follow the machine as much as the code):', '', ...head, ...c.absolutes.map(line)]
  return [...head, ...c.ratios.map(line), ...absolutes].join('\n')
}
