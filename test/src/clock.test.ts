import assert from 'node:assert/strict'
import { ManualClock, systemClock } from '../../src/clock.js'

describe('ManualClock', () => {
  it('starts at the given time and only moves when told to', () => {
    const clock = new ManualClock(1000)
    assert.equal(clock.now(), 1000)
    assert.equal(clock.now(), 1000)
    clock.advance(250)
    assert.equal(clock.now(), 1250)
    assert.ok(new ManualClock().now() > 1_600_000_000_000, 'the default start looks like epoch ms')
  })

  it('fires timers in due order, not in the order they were set', () => {
    const clock = new ManualClock(0)
    const fired: string[] = []
    clock.setTimeout(() => fired.push('c'), 30)
    clock.setTimeout(() => fired.push('a'), 10)
    clock.setTimeout(() => fired.push('b'), 20)
    clock.advance(100)
    assert.deepEqual(fired, ['a', 'b', 'c'])
  })

  it('fires timers due at the same time in the order they were set', () => {
    const clock = new ManualClock(0)
    const fired: number[] = []
    for (let i = 0; i < 5; i++) clock.setTimeout(() => fired.push(i), 10)
    clock.advance(10)
    assert.deepEqual(fired, [0, 1, 2, 3, 4])
  })

  it('shows each timer the time it was due, and ends at the target', () => {
    const clock = new ManualClock(0)
    const seen: number[] = []
    clock.setTimeout(() => seen.push(clock.now()), 7)
    clock.setTimeout(() => seen.push(clock.now()), 42)
    clock.advance(100)
    assert.deepEqual(seen, [7, 42])
    assert.equal(clock.now(), 100)
  })

  it('fires a timer exactly at its due time, not before', () => {
    const clock = new ManualClock(0)
    let fired = 0
    clock.setTimeout(() => fired++, 10)
    clock.advance(9)
    assert.equal(fired, 0)
    assert.equal(clock.pending, 1)
    clock.advance(1)
    assert.equal(fired, 1)
    assert.equal(clock.pending, 0)
  })

  it('honours timers set while firing, in due order, when they fall inside the advance', () => {
    const clock = new ManualClock(0)
    const fired: Array<[string, number]> = []
    clock.setTimeout(() => {
      fired.push(['a', clock.now()])
      clock.setTimeout(() => fired.push(['a+5', clock.now()]), 5) // due 15, before b
      clock.setTimeout(() => fired.push(['a+0', clock.now()]), 0) // due 10, right away
      clock.setTimeout(() => fired.push(['a+500', clock.now()]), 500) // beyond the target
    }, 10)
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20)
    clock.advance(100)
    assert.deepEqual(fired, [['a', 10], ['a+0', 10], ['a+5', 15], ['b', 20]])
    assert.equal(clock.pending, 1)
    clock.advance(410)
    assert.deepEqual(fired.at(-1), ['a+500', 510])
  })

  it('a self-rescheduling timer fires once per period within one advance', () => {
    const clock = new ManualClock(0)
    const at: number[] = []
    const tick = (): void => { at.push(clock.now()); clock.setTimeout(tick, 100) }
    clock.setTimeout(tick, 100)
    clock.advance(1000)
    assert.deepEqual(at, [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
    assert.equal(clock.pending, 1)
  })

  it('clearTimeout cancels a timer, also from inside another timer', () => {
    const clock = new ManualClock(0)
    const fired: string[] = []
    const a = clock.setTimeout(() => fired.push('a'), 10)
    clock.clearTimeout(a)
    const later: { handle?: unknown } = {}
    clock.setTimeout(() => { fired.push('b'); clock.clearTimeout(later.handle) }, 20)
    later.handle = clock.setTimeout(() => fired.push('c'), 30)
    clock.advance(100)
    assert.deepEqual(fired, ['b'])
    assert.equal(clock.pending, 0)
  })

  it('clearTimeout of an unknown or already fired handle does nothing', () => {
    const clock = new ManualClock(0)
    let fired = 0
    const h = clock.setTimeout(() => fired++, 1)
    clock.advance(1)
    clock.clearTimeout(h)
    clock.clearTimeout(12345)
    clock.clearTimeout(undefined)
    clock.setTimeout(() => fired++, 1)
    clock.advance(1)
    assert.equal(fired, 2)
  })

  it('treats a negative delay as 0', () => {
    const clock = new ManualClock(0)
    let fired = 0
    clock.setTimeout(() => fired++, -50)
    clock.advance(0)
    assert.equal(fired, 1)
    assert.equal(clock.now(), 0)
  })

  it('pending counts timers not yet fired or cleared', () => {
    const clock = new ManualClock(0)
    const handles = [1, 2, 3].map((n) => clock.setTimeout(() => {}, n * 10))
    assert.equal(clock.pending, 3)
    clock.clearTimeout(handles[2])
    assert.equal(clock.pending, 2)
    clock.advance(10)
    assert.equal(clock.pending, 1)
  })
})

describe('systemClock', () => {
  it('reads Date.now and runs unref\'d timers that can be cleared', async () => {
    const before = Date.now()
    const now = systemClock.now()
    assert.ok(now >= before && now <= Date.now())
    const cleared = systemClock.setTimeout(() => { throw new Error('cleared timer fired') }, 1)
    systemClock.clearTimeout(cleared)
    const handle = await new Promise<unknown>((resolve) => {
      const h = systemClock.setTimeout(() => resolve(h), 0)
    })
    assert.equal((handle as NodeJS.Timeout).hasRef(), false)
  })
})
