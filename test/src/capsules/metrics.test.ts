import assert from 'node:assert/strict'
import { ColonyError } from '../../../src/errors.js'
import {
  CapsuleMetrics, cpuPercent, metricRange, metricsResponse, METRIC_TIERS, type MetricSample,
} from '../../../src/capsules/metrics.js'

const T0 = 1_750_000_000_000
const STEP = 500

/** The i-th 500 ms sample: every field a simple function of i, so averages are easy to state. */
function sample (i: number): MetricSample {
  return { timestampMs: T0 + i * STEP, cpuPct: i % 100, memoryBytes: 1000 + i, diskBytes: 2 * i }
}

function pushed (n: number, from = 0): CapsuleMetrics {
  const m = new CapsuleMetrics()
  for (let i = from; i < from + n; i++) m.push(sample(i))
  return m
}

function mean (values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length
}

describe('capsule metrics: three ring buffers (10m raw, 2h of 30 s averages, 24h of 5 min averages)', () => {
  it('keeps Wrenn\'s capacities', () => {
    assert.deepEqual(Object.fromEntries(Object.entries(METRIC_TIERS).map(([t, { capacity }]) => [t, capacity])), { '10m': 1200, '2h': 240, '24h': 288 })
  })

  it('10m keeps the raw samples oldest first and, once full, drops the oldest (wrap-around)', () => {
    const m = pushed(10)
    assert.deepEqual(m.tier('10m'), Array.from({ length: 10 }, (_, i) => sample(i)))
    const full = pushed(1200 + 345)
    const raw = full.tier('10m')
    assert.equal(raw.length, 1200)
    assert.deepEqual(raw[0], sample(345))
    assert.deepEqual(raw.at(-1), sample(1544))
    for (let i = 1; i < raw.length; i++) assert.equal(raw[i]!.timestampMs - raw[i - 1]!.timestampMs, STEP)
  })

  it('every 60 samples make one 2h point: their average, with the last one\'s timestamp', () => {
    const m = pushed(59)
    assert.deepEqual(m.tier('2h'), [])
    m.push(sample(59))
    const [point] = m.tier('2h')
    const first = Array.from({ length: 60 }, (_, i) => sample(i))
    assert.deepEqual(point, {
      timestampMs: sample(59).timestampMs,
      cpuPct: mean(first.map((s) => s.cpuPct)),
      memoryBytes: Math.round(mean(first.map((s) => s.memoryBytes))),
      diskBytes: Math.round(mean(first.map((s) => s.diskBytes))),
    })
    // Consecutive, not sliding: the second point averages samples 60..119.
    const m2 = pushed(120)
    const second = m2.tier('2h')[1]!
    assert.equal(second.timestampMs, sample(119).timestampMs)
    assert.equal(second.memoryBytes, Math.round(mean(Array.from({ length: 60 }, (_, i) => 1000 + 60 + i))))
  })

  it('every 10 2h points make one 24h point (600 samples, 5 minutes), and the 2h tier wraps at 240', () => {
    const m = pushed(600)
    assert.equal(m.tier('2h').length, 10)
    const [coarse] = m.tier('24h')
    const mids = m.tier('2h')
    assert.equal(coarse!.timestampMs, sample(599).timestampMs)
    assert.equal(coarse!.cpuPct, mean(mids.map((p) => p.cpuPct)))
    assert.equal(coarse!.diskBytes, Math.round(mean(mids.map((p) => p.diskBytes))))
    assert.equal(coarse!.memoryBytes, Math.round(mean(Array.from({ length: 600 }, (_, i) => 1000 + i))))
    // 250 30-second points: the 2h tier keeps the newest 240, the 24h tier has 25.
    const long = pushed(250 * 60)
    const mid = long.tier('2h')
    assert.equal(mid.length, 240)
    assert.equal(mid[0]!.timestampMs, sample(10 * 60 + 59).timestampMs)
    assert.equal(mid.at(-1)!.timestampMs, sample(250 * 60 - 1).timestampMs)
    assert.equal(long.tier('24h').length, 25)
  })

  it('the 24h tier wraps at 288 points', () => {
    const m = new CapsuleMetrics()
    // 290 five-minute points = 174,000 samples; constant values keep the check about positions.
    const n = 290 * 600
    for (let i = 0; i < n; i++) m.push({ timestampMs: T0 + i * STEP, cpuPct: 1, memoryBytes: 5, diskBytes: 7 })
    const coarse = m.tier('24h')
    assert.equal(coarse.length, 288)
    assert.equal(coarse[0]!.timestampMs, T0 + (3 * 600 - 1) * STEP)
    assert.equal(coarse.at(-1)!.timestampMs, T0 + (n - 1) * STEP)
    assert.ok(coarse.every((p) => p.cpuPct === 1 && p.memoryBytes === 5 && p.diskBytes === 7))
  })

  it('a range reads its tier, oldest first, only points no older than the window (from the newest, or a given now)', () => {
    const m = pushed(1200)
    const tenMin = m.range('10m')
    assert.equal(tenMin.length, 1200)
    const fiveMin = m.range('5m')
    // From the newest sample back 300 s inclusive: 601 samples.
    assert.equal(fiveMin.length, 601)
    assert.deepEqual(fiveMin[0], sample(599))
    assert.deepEqual(fiveMin.at(-1), sample(1199))
    assert.deepEqual(m.range('1h'), m.tier('2h'))
    assert.equal(m.range('2h').length, 20)
    assert.deepEqual(m.range('6h'), m.tier('24h'))
    assert.equal(m.range('24h').length, 2)
    // A later now: what is older than the window is left out.
    assert.equal(m.range('5m', sample(1199).timestampMs + 5 * 60_000).length, 1)
    assert.equal(m.range('5m', sample(1199).timestampMs + 5 * 60_000 + 1).length, 0)
    assert.equal(m.range('10m', sample(1199).timestampMs + 60_000).length, 1200 - 119)
    // What a range gives is a copy.
    m.range('10m')[0]!.cpuPct = 99
    assert.equal(m.tier('10m')[0]!.cpuPct, 0)
    assert.deepEqual(new CapsuleMetrics().range('24h'), [])
  })

  it('a bad range is 400 invalid_query naming range; none is 10m', () => {
    const m = pushed(3)
    for (const bad of ['3m', '10M', '1d', '30d', 'toString', '__proto__']) {
      assert.throws(() => m.range(bad), (err: unknown) => err instanceof ColonyError && err.code === 'invalid_query' && /range/.test(err.message), bad)
    }
    assert.equal(metricRange(undefined), '10m')
    assert.equal(metricRange(''), '10m')
    assert.equal(metricRange('12h'), '12h')
  })

  it('toJSON / fromJSON carries every tier and the half-made averages over (pause, restart)', () => {
    const m = pushed(600 * 3 + 60 * 4 + 17)
    const json = JSON.parse(JSON.stringify(m)) as unknown
    const back = CapsuleMetrics.fromJSON(json)
    for (const tier of ['10m', '2h', '24h'] as const) assert.deepEqual(back.tier(tier), m.tier(tier), tier)
    assert.deepEqual(back.toJSON(), m.toJSON())
    // Both go on identically: the pending 17 samples and 4 2h points still count toward the next averages.
    for (let i = 600 * 3 + 60 * 4 + 17; i < 600 * 5; i++) {
      m.push(sample(i))
      back.push(sample(i))
    }
    assert.deepEqual(back.toJSON(), m.toJSON())
    assert.equal(back.tier('24h').length, 5)
  })

  it('fromJSON refuses what is not a snapshot; push refuses a bad sample', () => {
    for (const bad of [null, 1, {}, { version: 2, tiers: {}, pending: {} }, { version: 1, tiers: { '10m': [], '2h': [], '24h': 'x' }, pending: { '2h': [], '24h': [] } },
      { version: 1, tiers: { '10m': [{ timestampMs: 1 }], '2h': [], '24h': [] }, pending: { '2h': [], '24h': [] } }]) {
      assert.throws(() => CapsuleMetrics.fromJSON(bad), TypeError, JSON.stringify(bad))
    }
    const m = new CapsuleMetrics()
    assert.throws(() => { m.push({ timestampMs: T0, cpuPct: Number.NaN, memoryBytes: 0, diskBytes: 0 }) }, TypeError)
    assert.throws(() => { m.push({ timestampMs: T0, cpuPct: 1, memoryBytes: -1, diskBytes: 0 }) }, TypeError)
    assert.equal(m.empty, true)
  })

  it('flush gives every tier and empties them (Wrenn\'s flush at pause)', () => {
    const m = pushed(700)
    const snapshot = m.flush()
    assert.equal(snapshot.tiers['10m'].length, 700)
    assert.equal(snapshot.tiers['2h'].length, 11)
    assert.equal(snapshot.tiers['24h'].length, 1)
    assert.equal(m.empty, true)
    assert.deepEqual(m.toJSON(), { version: 1, tiers: { '10m': [], '2h': [], '24h': [] }, pending: { '2h': [], '24h': [] } })
    assert.deepEqual(CapsuleMetrics.fromJSON(snapshot).toJSON(), snapshot)
  })

  it('answers in Wrenn\'s shape: {sandbox_id, range, points: [{timestamp_unix, cpu_pct, mem_bytes, disk_bytes}]}', () => {
    const m = pushed(4)
    assert.deepEqual(metricsResponse('cl-x', '5m', m.range('5m')).points[3], {
      timestamp_unix: Math.floor(sample(3).timestampMs / 1000), cpu_pct: 3, mem_bytes: 1003, disk_bytes: 6,
    })
    assert.equal(metricsResponse('cl-x', '5m', []).sandbox_id, 'cl-x')
  })

  it('cpuPercent: used CPU time over elapsed time and vCPUs, clamped to 0..100', () => {
    // 250 ms of CPU in 500 ms on 1 vCPU: 50 %; on 2 vCPUs: 25 %.
    assert.equal(cpuPercent({ atMs: 0, cpuNs: 0 }, { atMs: 500, cpuNs: 250e6 }, 1), 50)
    assert.equal(cpuPercent({ atMs: 0, cpuNs: 1e9 }, { atMs: 500, cpuNs: 1e9 + 250e6 }, 2), 25)
    assert.equal(cpuPercent({ atMs: 0, cpuNs: 0 }, { atMs: 500, cpuNs: 2e9 }, 1), 100)
    assert.equal(cpuPercent({ atMs: 0, cpuNs: 5e9 }, { atMs: 500, cpuNs: 1e9 }, 1), 0)
    assert.equal(cpuPercent({ atMs: 500, cpuNs: 0 }, { atMs: 500, cpuNs: 1e6 }, 1), 0)
    assert.equal(cpuPercent({ atMs: 0, cpuNs: 0 }, { atMs: 500, cpuNs: 1e6 }, 0), 0)
  })
})
