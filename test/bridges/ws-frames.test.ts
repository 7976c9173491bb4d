import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { textFrame } from '../../bridges/ws/frame.js'
import { FrameRing } from '../../bridges/ws/ring.js'

/** ws's own framing (not in its type definitions), the reference the stream's frames must match. */
const { Sender } = createRequire(import.meta.url)('ws') as { Sender: { frame (data: Buffer, options: Record<string, unknown>): Buffer[] } }

describe('/ws frames and queue', () => {
  it('textFrame builds the same bytes as ws for every length class (7-bit, 16-bit, 64-bit)', () => {
    for (const length of [0, 1, 125, 126, 127, 65535, 65536, 70_000]) {
      const text = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2)
      const data = Buffer.from(text)
      const expected = Buffer.concat(Sender.frame(data, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }))
      assert.deepEqual(textFrame(text), expected, `${length} bytes`)
    }
  })

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
