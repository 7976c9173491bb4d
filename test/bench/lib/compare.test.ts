import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { apart, compareRuns, disagreeing, parseRun, renderComparison, renderMarkdown } from './compare.js'
import { renderVerdict, type Verdict } from './report.js'

const line = (v: Partial<Verdict> & { name: string, ratio: number }): string => renderVerdict({ detail: 'how it was measured: 3 vs 2 µs', ...v })

/** A run's output as `run.ts` prints it: a bench's own lines, then the summary repeating them. */
function output (verdicts: Array<Partial<Verdict> & { name: string, ratio: number }>, summary = verdicts): string {
  return [
    '=== http: GET /api/actors',
    'load average at start: 1.00 1.00 1.00 (1/5/15 min) on 2 cores',
    ...verdicts.map(line),
    '(http took 70 s, 5 rounds)',
    '',
    '=== summary (load average now 1.96 1.57 1.72 (1/5/15 min) on 2 cores)',
    ...summary.map(line),
  ].join('\n')
}

describe('bench compare: do two saved runs agree', () => {
  it('reads every summary figure, names with colons and absolute figures with their unit included', () => {
    const figures = parseRun(output([
      { name: 'heartbeat 10000 actors @1 Hz: runtime CPU', ratio: 22.5, targetMax: 15, unit: '% of a core' },
      { name: 'Colony GET /api/actors / bare node:http req/s', ratio: 0.6977, target: 0.7 },
      { name: 'bridge events/s, actor churn', ratio: 5808.4, unit: 'events/s' },
      { name: 'replayBatch vs call() round trips, warm, memcounter increment', ratio: 4.1401 },
      { name: 'a baseline that failed', ratio: NaN, target: 1 },
    ]))
    assert.deepEqual([...figures], [
      ['heartbeat 10000 actors @1 Hz: runtime CPU', { value: 22.5, unit: '% of a core', target: '<= 15 % of a core', status: 'ABOVE TARGET' }],
      ['Colony GET /api/actors / bare node:http req/s', { value: 0.6977, unit: undefined, target: '>= 0.7', status: 'BELOW TARGET' }],
      ['bridge events/s, actor churn', { value: 5808, unit: 'events/s', target: undefined, status: 'info' }],
      ['replayBatch vs call() round trips, warm, memcounter increment', { value: 4.1401, unit: undefined, target: undefined, status: 'info' }],
      ['a baseline that failed', { value: NaN, unit: undefined, target: '>= 1', status: 'NOT MEASURED' }],
    ])
  })

  it('takes the summary, not the bench lines above it, and every RATIO line when the run has no summary', () => {
    const early = output([{ name: 'r', ratio: 1 }], [{ name: 'r', ratio: 2 }])
    assert.equal(parseRun(early).get('r')?.value, 2)
    const cut = early.slice(0, early.indexOf('=== summary'))
    assert.equal(parseRun(cut).get('r')?.value, 1)
    assert.equal(parseRun('npm ERR! missing script: bench\nRATIO is not a line of ours').size, 0)
  })

  it('measures how far apart against the smaller of the two', () => {
    assert.equal(apart(1, 1), 0)
    assert.equal(apart(1, 1.15), apart(1.15, 1))
    assert.ok(Math.abs(apart(0.8, 0.6837) - 0.170) < 0.001)
    assert.ok(Number.isNaN(apart(NaN, 1)))
  })

  it('agrees when every ratio is within the tolerance, whatever the absolute figures did', () => {
    const a = parseRun(output([{ name: 'r', ratio: 2.0 }, { name: 'nginx added p50', ratio: 239, unit: 'µs', targetMax: 200 }]))
    const b = parseRun(output([{ name: 'r', ratio: 2.29 }, { name: 'nginx added p50', ratio: 167, unit: 'µs', targetMax: 200 }]))
    const c = compareRuns(a, b)
    assert.deepEqual(disagreeing(c), [])
    assert.equal(c.absolutes[0]?.agrees, false)
    assert.match(renderComparison(c), /agree: all 1 ratios within 15 % \(1 of 1 absolute figures moved more\)/)
  })

  it('disagrees on a ratio apart by more than the tolerance, one missing from a run, or one not measured', () => {
    const a = parseRun(output([{ name: 'moved', ratio: 4.14 }, { name: 'only in A', ratio: 1 }, { name: 'kept', ratio: 1 }, { name: 'lost', ratio: NaN }]))
    const b = parseRun(output([{ name: 'moved', ratio: 7.18 }, { name: 'kept', ratio: 1.1 }, { name: 'lost', ratio: 1 }, { name: 'only in B', ratio: 1 }]))
    const c = compareRuns(a, b)
    assert.deepEqual(disagreeing(c).map((f) => f.name), ['moved', 'only in A', 'lost', 'only in B'])
    const text = renderComparison(c)
    assert.match(text, /^!! {2}\s*73\.4 % {2}4\.14 +7\.18 +moved$/m)
    assert.match(text, /^!! +- {2}1 +missing +only in A$/m)
    assert.match(text, /disagree: 4 of 5 ratios/)
    assert.equal(compareRuns(a, b, 1).ratios.find((f) => f.name === 'moved')?.agrees, true)
  })

  it('renders a Markdown table with both runs, how far apart, the target and each run\'s verdict', () => {
    const a = parseRun(output([{ name: 'GET a | b', ratio: 0.7992, target: 0.7 }, { name: 'p50', ratio: 4.3, unit: 'ms', targetMax: 2 }]))
    const b = parseRun(output([{ name: 'GET a | b', ratio: 0.6977, target: 0.7 }, { name: 'p50', ratio: 2, unit: 'ms', targetMax: 2 }]))
    const md = renderMarkdown(compareRuns(a, b), ['F', 'G']).split('\n')
    assert.equal(md[0], '| figure | F | G | apart | target | F / G |')
    assert.equal(md[2], '| GET a \\| b | 0.7992 | 0.6977 | 14.5 % | >= 0.7 | met / **below target** |')
    assert.ok(md.includes('| p50 | 4.3 ms | 2 ms | 115.0 % **!!** | <= 2 ms | **above target** / met |'), md.join('\n'))
  })

  it('prints no absolute-figures table when neither run has an absolute figure', () => {
    const a = parseRun(output([{ name: 'fan-in', ratio: 5.95, target: 0.6 }]))
    const b = parseRun(output([{ name: 'fan-in', ratio: 5.59, target: 0.6 }]))
    const md = renderMarkdown(compareRuns(a, b), ['S1', 'S2'])
    assert.doesNotMatch(md, /Absolute figures/)
    assert.deepEqual(md.split('\n').slice(2), ['| fan-in | 5.95 | 5.59 | 6.4 % | >= 0.6 | met / met |'])
  })
})

describe('bench compare: the command', () => {
  const cli = fileURLToPath(new URL('../compare.js', import.meta.url))
  let dir = ''
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'colony-bench-compare-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  async function run (...args: string[]): Promise<{ code: number | null, out: string, err: string }> {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let [out, err] = ['', '']
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    return { code, out, err }
  }

  it('exits 0 when two runs agree and 1 when a ratio moved', async () => {
    const [a, b, c] = ['a.log', 'b.log', 'c.log'].map((f) => join(dir, f)) as [string, string, string]
    await writeFile(a, output([{ name: 'r', ratio: 1.0 }]))
    await writeFile(b, output([{ name: 'r', ratio: 1.1 }]))
    await writeFile(c, output([{ name: 'r', ratio: 1.3 }]))
    const same = await run(a, b)
    assert.equal(same.code, 0, same.err)
    assert.match(same.out, /agree: all 1 ratios/)
    const moved = await run(a, c)
    assert.equal(moved.code, 1)
    assert.match(moved.out, /^!! +30\.0 %/m)
    assert.equal((await run(a, c, '--tolerance', '0.35')).code, 0)
    const md = await run(a, c, '--markdown')
    assert.equal(md.code, 1)
    assert.match(md.out, /^\| r \| 1 \| 1\.3 \| 30\.0 % \*\*!!\*\* \| {2}\| {2}\|$/m)
    assert.match(md.out, /^\| figure \| a \| c \|/m)
  })

  it('exits 2 with a reason on a missing file, a file that is no bench output, or a wrong argument', async () => {
    const a = join(dir, 'ok.log')
    const junk = join(dir, 'junk.log')
    await writeFile(a, output([{ name: 'r', ratio: 1 }]))
    await writeFile(junk, 'not a bench\n')
    const missing = await run(a, join(dir, 'nope.log'))
    assert.equal(missing.code, 2)
    assert.match(missing.err, /ENOENT/)
    const notBench = await run(a, junk)
    assert.equal(notBench.code, 2)
    assert.match(notBench.err, /no RATIO lines in .*junk\.log/)
    assert.equal((await run(a)).code, 2)
    assert.equal((await run(a, a, '--tolerance', 'x')).code, 2)
  })
})
