import assert from 'node:assert/strict'
import { childrenCpuUs } from './external.js'
import { cpuShares, machineCpu, parseMachineCpu } from './proc.js'
import { missedTargets, pairedDiff, pairedRatio, renderVerdict, rotate, roundRatios, spread, verdictStatus, type Verdict } from './report.js'

// The bench report library decides what `npm run bench -- --check` exits with; the benches themselves are not run by npm test.
describe('bench report: verdicts and --check', () => {
  const v = (ratio: number, targets: Partial<Verdict> = {}): Verdict => ({ name: 'x', ratio, detail: 'd', ...targets })

  it('a ratio meets a minimum target at or above it, and misses it below', () => {
    assert.equal(verdictStatus(v(1.0, { target: 1 })), 'PASS')
    assert.equal(verdictStatus(v(0.99, { target: 1 })), 'BELOW TARGET')
  })

  it('a cost meets a maximum target at or below it, and misses it above', () => {
    assert.equal(verdictStatus(v(15, { targetMax: 15, unit: '% of a core' })), 'PASS')
    assert.equal(verdictStatus(v(15.1, { targetMax: 15, unit: '% of a core' })), 'ABOVE TARGET')
  })

  it('a target whose value could not be measured (a missing baseline) is missed, not passed', () => {
    assert.equal(verdictStatus(v(NaN, { target: 0.6 })), 'NOT MEASURED')
    assert.equal(verdictStatus(v(Infinity, { targetMax: 1.5 })), 'NOT MEASURED')
    assert.match(renderVerdict(v(NaN, { target: 0.6 })), /NaN \(target >= 0.6\)\s+NOT MEASURED/)
  })

  it('informational ratios never fail --check', () => {
    assert.equal(verdictStatus(v(NaN)), 'info')
    const all = [v(2), v(0.5, { target: 1 }), v(1.2, { target: 1.2 }), v(3, { targetMax: 1.5 }), v(NaN, { target: 1 })]
    assert.deepEqual(missedTargets(all).map((x) => x.ratio), [0.5, 3, NaN])
    assert.deepEqual(missedTargets([v(2), v(1, { target: 1 })]), [])
  })

  it('renders the target and the status next to the value', () => {
    assert.match(renderVerdict(v(0.5, { target: 0.7 })), /^RATIO x: 0\.5000 \(target >= 0\.7\)\s+BELOW TARGET\s+— d$/)
    assert.match(renderVerdict(v(12.5, { targetMax: 15, unit: '% of a core' })), /12\.5 % of a core \(target <= 15 % of a core\)\s+PASS/)
  })
})

describe('bench report: rounds', () => {
  it('rotates the contenders so each round starts with a different one', () => {
    const order = [0, 1, 2].map((round) => rotate(['a', 'b', 'c'], round))
    assert.deepEqual(order, [['a', 'b', 'c'], ['b', 'c', 'a'], ['c', 'a', 'b']])
    assert.deepEqual(new Set(order.map((o) => o[0])), new Set(['a', 'b', 'c']))
    assert.deepEqual(new Set(order.map((o) => o.at(-1))), new Set(['a', 'b', 'c']))
  })

  it('shows the median with the spread of the rounds', () => {
    assert.equal(spread([30, 10, 20]), '20 (10..30)')
    assert.equal(spread([0.5, 0.25, 1.5]), '0.50 (0.25..1.50)')
    assert.equal(spread([1500, 1000, 2000]), '1,500 (1,000..2,000)')
    assert.equal(spread([]), '-')
  })

  it('reads the CPU of a finished child from bash `times`', () => {
    assert.equal(childrenCpuUs('0m0.003s 0m0.000s\n0m1.250s 0m0.310s\n'), 1_560_000)
    assert.equal(childrenCpuUs('1m2.500s 0m0.500s'), 63_000_000)
    assert.ok(Number.isNaN(childrenCpuUs('garbage')))
  })
})

describe('bench report: round-by-round ratios', () => {
  it('pairs the rounds of two contenders and shows the range of their ratios', () => {
    assert.equal(roundRatios([10, 20, 30], [10, 10, 20]), 'rounds 1.00..2.00')
    assert.equal(roundRatios([10, 20], [10]), 'rounds 1.00..1.00')
    assert.equal(roundRatios([], [1]), 'no rounds')
  })

  it('a paired ratio is the median of the rounds\' own ratios, so a drift that moves both sides of a round cancels', () => {
    // Round 2 ran on a machine four times as fast for both: the ratio of medians would say 12 / 8 = 1.5.
    assert.equal(pairedRatio([10, 40, 12], [8, 32, 8]), 1.25)
    assert.equal(pairedRatio([10, 20], [10]), 1)
    assert.ok(Number.isNaN(pairedRatio([], [1])))
    assert.equal(pairedRatio([1, 2, 3], [0, 1, 1]), 2.5, 'a round with no baseline is left out')
  })

  it('a paired difference is the median of the rounds\' own differences', () => {
    // Round 2 was slow for both sides: the difference of medians would say 300 - 150 = 150.
    assert.equal(pairedDiff([300, 900, 310], [200, 800, 150]), 100)
    assert.equal(pairedDiff([5, 7], [2]), 3)
    assert.ok(Number.isNaN(pairedDiff([], [1])))
  })
})

describe('bench report: CPU stolen from the VM', () => {
  it('reads steal and iowait from the first line of /proc/stat, guest time not counted twice', () => {
    const cpu = parseMachineCpu('cpu  4731688 10158 822419 6695176 93564 0 157933 87552 11 22')
    assert.deepEqual(cpu, { total: 4731688 + 10158 + 822419 + 6695176 + 93564 + 0 + 157933 + 87552, steal: 87552, iowait: 93564 })
    assert.equal(parseMachineCpu('cpu0 1 2 3 4 5 6 7 8'), undefined)
    assert.equal(parseMachineCpu('cpu  1 2 3'), undefined)
    assert.equal(parseMachineCpu('cpu  1 2 3 x 5 6 7 8'), undefined)
  })

  it('gives steal and iowait as shares of the time between two samples', () => {
    const a = { total: 1000, steal: 10, iowait: 5 }
    assert.deepEqual(cpuShares(a, { total: 1200, steal: 60, iowait: 25 }), { steal: 0.25, iowait: 0.1 })
    assert.equal(cpuShares(a, a), undefined)
    assert.equal(cpuShares(undefined, a), undefined)
  })

  it('reads this machine', () => {
    const cpu = machineCpu()
    assert.ok(cpu !== undefined && cpu.total > 0 && cpu.steal >= 0 && cpu.steal <= cpu.total)
  })
})
