import assert from 'node:assert/strict'
import { FrameRing } from '../../../bridges/ws/ring.js'

describe('/ws queue', () => {
  it('FrameRing is first in, first out across growth and wrap-around', () => {
    const ring = new FrameRing()
    const out: number[] = []
    let next = 0
    // Push 3, shift 2, many times: the ring wraps and grows while order holds.
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 3; i++) ring.push(Buffer.from([next++ & 0xff]))
      for (let i = 0; i < 2; i++) out.push((ring.shift() as Buffer)[0] as number)
    }
    assert.equal(ring.size, 100)
    while (ring.size > 0) out.push((ring.shift() as Buffer)[0] as number)
    assert.deepEqual(out, Array.from({ length: 300 }, (_, i) => i & 0xff))
    assert.equal(ring.shift(), undefined)
    ring.push(Buffer.from('a'))
    ring.clear()
    assert.equal(ring.size, 0)
    assert.equal(ring.shift(), undefined)
  })
})
