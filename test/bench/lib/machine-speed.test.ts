import assert from 'node:assert/strict'
import { referenceWorkNs } from './machine-speed.js'

describe('bench machine speed: the reference work', () => {
  it('times a heartbeat-sized stringify, copy and parse in CPU nanoseconds per iteration', () => {
    const ns = referenceWorkNs()
    // Below ~100 ns the loop did not run as written; above 1 ms per iteration something else is being timed.
    assert.ok(Number.isFinite(ns) && ns > 100 && ns < 1_000_000, `${ns} ns per iteration`)
  })
})
