import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { textFrame } from '../../../bridges/ws/frame.js'

/** ws's own framing (not in its type definitions), the reference the stream's frames must match. */
const { Sender } = createRequire(import.meta.url)('ws') as { Sender: { frame (data: Buffer, options: Record<string, unknown>): Buffer[] } }

describe('/ws frames', () => {
  it('textFrame builds the same bytes as ws for every length class (7-bit, 16-bit, 64-bit)', () => {
    for (const length of [0, 1, 125, 126, 127, 65535, 65536, 70_000]) {
      const text = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2)
      const data = Buffer.from(text)
      const expected = Buffer.concat(Sender.frame(data, { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }))
      assert.deepEqual(textFrame(text), expected, `${length} bytes`)
    }
  })
})
