import assert from 'node:assert/strict'
import { ManualClock, type Clock, type TimerHandle } from '../../../src/clock.js'
import { batchMs, HeartbeatScheduler, type Beater } from '../../../src/actor/scheduler.js'

/** Records when it beat; while `saturated`, refuses like a cell does when the bus is full. */
class Probe implements Beater {
  times: number[] = []
  calls = 0
  saturated = false
  constructor (private readonly clock: Clock) {}
  beat (): boolean {
    this.calls++
    if (this.saturated) return false
    this.times.push(this.clock.now())
    return true
  }
}

/** Returns the given values in turn: phase = floor(value * interval). */
const sequence = (...values: number[]) => {
  let i = 0
  return () => values[i++ % values.length] as number
}

/** A deterministic Math.random stand-in (mulberry32). */
function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A ManualClock whose `now()` can jump ahead without firing timers, as when the event loop stalls. */
class StallingClock implements Clock {
  skew = 0
  constructor (readonly manual: ManualClock) {}
  now (): number { return this.manual.now() + this.skew }
  setTimeout (fn: () => void, ms: number): TimerHandle { return this.manual.setTimeout(fn, ms) }
  clearTimeout (handle: TimerHandle): void { this.manual.clearTimeout(handle) }
}

describe('HeartbeatScheduler', () => {
  const I = 1000
  let clock: ManualClock
  let t0: number
  let scheduler: HeartbeatScheduler | undefined
  beforeEach(() => {
    clock = new ManualClock()
    t0 = clock.now()
  })
  afterEach(() => { scheduler?.stop() })

  function probes (n: number, s: HeartbeatScheduler, on: Clock = clock): Probe[] {
    const list = Array.from({ length: n }, () => new Probe(on))
    for (const p of list) s.add(p)
    return list
  }

  it('beats each beater once per interval, at its own phase', () => {
    scheduler = new HeartbeatScheduler(clock, I, sequence(0.1, 0.5, 0.9))
    const [a, b, c] = probes(3, scheduler) as [Probe, Probe, Probe]
    clock.advance(5 * I)
    assert.deepEqual(a.times.map((t) => t - t0), [100, 1100, 2100, 3100, 4100])
    assert.deepEqual(b.times.map((t) => t - t0), [500, 1500, 2500, 3500, 4500])
    assert.deepEqual(c.times.map((t) => t - t0), [900, 1900, 2900, 3900, 4900])
  })

  it('a phase of 0 beats at once and a phase near 1 stays inside the interval', () => {
    scheduler = new HeartbeatScheduler(clock, I, sequence(0, 0.99999))
    const [a, b] = probes(2, scheduler) as [Probe, Probe]
    clock.advance(0)
    assert.deepEqual(a.times, [t0])
    clock.advance(I - 1)
    assert.deepEqual(b.times, [t0 + I - 1])
  })

  it('uses one timer for any number of beaters', () => {
    scheduler = new HeartbeatScheduler(clock, I, seeded(1))
    probes(1000, scheduler)
    assert.equal(scheduler.size, 1000)
    assert.equal(clock.pending, 1)
  })

  it('re-arms earlier when a beater with an earlier phase is added', () => {
    scheduler = new HeartbeatScheduler(clock, I, sequence(0.9, 0.1))
    const [late, early] = probes(2, scheduler) as [Probe, Probe]
    assert.equal(clock.pending, 1)
    clock.advance(100)
    assert.deepEqual(early.times, [t0 + 100])
    assert.deepEqual(late.times, [])
  })

  it('keeps phases without drift when close beats are batched', () => {
    scheduler = new HeartbeatScheduler(clock, I, sequence(0.1, 0.101))
    const [a, b] = probes(2, scheduler) as [Probe, Probe]
    clock.advance(100 * I)
    assert.equal(a.times.length, 100)
    assert.equal(b.times.length, 100)
    for (const [i, t] of b.times.entries()) {
      const offset = t - t0 - i * I
      assert.ok(offset >= 101 - 2 && offset <= 101, `beat ${i} at +${offset} within the interval`)
    }
  })

  it('spreads 1000 beaters over the interval instead of one millisecond', () => {
    scheduler = new HeartbeatScheduler(clock, 10_000, seeded(42))
    const list = probes(1000, scheduler)
    clock.advance(10_000)
    const perMs = new Map<number, number>()
    for (const p of list) {
      assert.ok(p.times.length >= 1, 'every beater beat within one interval')
      const first = p.times[0] as number
      perMs.set(first, (perMs.get(first) ?? 0) + 1)
    }
    // Beats due within one batch (batchMs: 20 ms of a 10 s interval) share a callback, so ~2 per batch here.
    assert.ok(perMs.size >= 10_000 / batchMs(10_000) / 3, `first beats fell on only ${perMs.size} distinct ms`)
    const worst = Math.max(...perMs.values())
    assert.ok(worst <= 10, `${worst} beats in the same millisecond`)
  })

  it('beats due within one batch go together, at most a batch early; a beater added later finds its place', () => {
    scheduler = new HeartbeatScheduler(clock, I, sequence(0.5, 0.1, 0.3, 0.9, 0.21))
    const [p500, p100, p300, p900] = probes(4, scheduler) as [Probe, Probe, Probe, Probe]
    clock.advance(100)
    const late = probes(1, scheduler)[0] as Probe // phase 210 from t0 + 100: due at +310, within 300's batch
    clock.advance(3 * I)
    const offsets = (p: Probe): number[] => p.times.map((t) => t - t0)
    assert.ok(batchMs(I) >= 10)
    assert.deepEqual(offsets(p100), [100, 1100, 2100, 3100])
    assert.deepEqual(offsets(p300), [300, 1300, 2300])
    assert.deepEqual(offsets(late), [300, 1300, 2300], 'sent with the beat due 10 ms before it')
    assert.deepEqual(offsets(p500), [500, 1500, 2500])
    assert.deepEqual(offsets(p900), [900, 1900, 2900])
  })

  it('adding the same beater twice does not double its beats', () => {
    scheduler = new HeartbeatScheduler(clock, I, sequence(0.5))
    const p = new Probe(clock)
    scheduler.add(p)
    scheduler.add(p)
    assert.equal(scheduler.size, 1)
    clock.advance(3 * I)
    assert.equal(p.times.length, 3)
  })

  it('remove stops the beats of that beater only', () => {
    scheduler = new HeartbeatScheduler(clock, I, sequence(0.2, 0.6))
    const [a, b] = probes(2, scheduler) as [Probe, Probe]
    clock.advance(2500)
    assert.equal(a.times.length, 3)
    scheduler.remove(a)
    scheduler.remove(new Probe(clock)) // unknown: no-op
    assert.equal(scheduler.size, 1)
    clock.advance(5 * I)
    assert.equal(a.times.length, 3)
    assert.equal(b.times.length, 7) // 600, 1600, then 2600 ... 6600
    assert.equal(a.calls, 3)
  })

  it('stops arming timers once every beater is removed, and a re-added beater beats again', () => {
    scheduler = new HeartbeatScheduler(clock, I, sequence(0.3))
    const [a] = probes(1, scheduler) as [Probe]
    scheduler.remove(a)
    clock.advance(I)
    assert.equal(clock.pending, 0)
    assert.equal(a.calls, 0)
    scheduler.add(a)
    clock.advance(I)
    assert.equal(a.times.length, 1)
  })

  it('retries a refused beat within a few ms', () => {
    scheduler = new HeartbeatScheduler(clock, I, sequence(0.1))
    const [p] = probes(1, scheduler) as [Probe]
    p.saturated = true
    clock.advance(100)
    assert.equal(p.calls, 1)
    p.saturated = false
    clock.advance(5)
    assert.equal(p.times.length, 1)
    assert.ok((p.times[0] as number) - (t0 + 100) <= 5)
    clock.advance(I)
    assert.deepEqual(p.times.map((t) => t - t0), [p.times[0]! - t0, 1100], 'the regular phase is kept')
  })

  it('coalesces beats missed while saturated into one', () => {
    scheduler = new HeartbeatScheduler(clock, I, sequence(0.1))
    const [p] = probes(1, scheduler) as [Probe]
    p.saturated = true
    clock.advance(3550) // the beats due at 100, 1100, 2100 and 3100 are all refused
    assert.ok(p.calls >= 4)
    p.saturated = false
    clock.advance(10)
    assert.equal(p.times.length, 1, 'one catch-up beat, not one per missed interval')
    clock.advance(4099 - 3560)
    assert.equal(p.times.length, 1)
    clock.advance(1)
    assert.deepEqual(p.times.slice(1), [t0 + 4100])
  })

  it('delivers every deferred beater once when the bus frees up', () => {
    const random = seeded(7)
    scheduler = new HeartbeatScheduler(clock, I, () => 0.1 + 0.8 * random()) // phases 100..900
    const list = probes(50, scheduler)
    for (const p of list) p.saturated = true
    clock.advance(I)
    assert.ok(list.every((p) => p.calls >= 1))
    for (const p of list) p.saturated = false
    clock.advance(5)
    assert.deepEqual(list.map((p) => p.times.length), list.map(() => 1))
  })

  it('a deferred beat that succeeds in the tick where the regular beat is due is sent once, not twice', () => {
    scheduler = new HeartbeatScheduler(clock, 100, sequence(0))
    const [p] = probes(1, scheduler) as [Probe]
    p.saturated = true
    clock.advance(95) // refused at 0, then retried every 5 ms until 95
    p.saturated = false
    clock.advance(5) // t0 + 100: the retry and the next regular beat fall due together
    assert.deepEqual(p.times.map((t) => t - t0), [100])
  })

  it('after a long clock jump beats once per beater instead of bursting, keeping phases', () => {
    const stalling = new StallingClock(clock)
    scheduler = new HeartbeatScheduler(stalling, I, sequence(0.1, 0.4, 0.7))
    const list = probes(3, scheduler, stalling)
    clock.advance(I)
    assert.deepEqual(list.map((p) => p.times.length), [1, 1, 1])
    stalling.skew = 10 * I // the event loop was blocked for ten intervals
    clock.advance(100) // the pending timer finally fires, very late
    assert.deepEqual(list.map((p) => p.times.length), [2, 2, 2])
    clock.advance(I)
    assert.deepEqual(list.map((p) => p.times.length), [3, 3, 3])
    const phases = list.map((p) => ((p.times[2] as number) - t0) % I)
    assert.deepEqual(phases, [100, 400, 700])
  })

  it('stop clears the timer and ignores later adds', () => {
    scheduler = new HeartbeatScheduler(clock, I, seeded(3))
    const list = probes(10, scheduler)
    clock.advance(I / 2)
    assert.equal(clock.pending, 1)
    scheduler.stop()
    assert.equal(clock.pending, 0)
    assert.equal(scheduler.size, 0)
    const before = list.map((p) => p.calls)
    clock.advance(10 * I)
    assert.deepEqual(list.map((p) => p.calls), before)
    scheduler.add(new Probe(clock))
    assert.equal(scheduler.size, 0)
    assert.equal(clock.pending, 0)
  })
})
