import assert from 'node:assert/strict'
import { sequentialPair } from './latency.js'

describe('bench latency: two calls timed in turns', () => {
  it('takes turns call by call, alternating which goes first, and times each kind apart', async () => {
    const order: string[] = []
    const slow = async (): Promise<void> => { order.push('a'); await new Promise((resolve) => setTimeout(resolve, 2)) }
    const fast = async (): Promise<void> => { order.push('b') }
    const [a, b] = await sequentialPair(slow, fast, 1, 4)
    // warm-up a b, then a b | b a | a b | b a
    assert.deepEqual(order, ['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b', 'b', 'a'])
    assert.equal(a.n, 4)
    assert.equal(b.n, 4)
    assert.ok(a.p50Us >= 1500, `the slow call's own time: ${a.p50Us} µs`)
    assert.ok(b.p50Us < a.p50Us, 'the fast call is not charged with the slow one')
  })
})
