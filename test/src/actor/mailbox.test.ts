import assert from 'node:assert/strict'
import { Mailbox } from '../../../src/actor/mailbox.js'

function drain<T> (box: Mailbox<T>): T[] {
  const out: T[] = []
  for (let item = box.shift(); item !== undefined; item = box.shift()) out.push(item)
  return out
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i)

describe('Mailbox', () => {
  it('starts empty', () => {
    const box = new Mailbox<number>(10)
    assert.equal(box.size, 0)
    assert.equal(box.full, false)
    assert.equal(box.shift(), undefined)
    assert.equal(box.capacity, 10)
  })

  it('is FIFO', () => {
    const box = new Mailbox<string>(10)
    for (const s of ['a', 'b', 'c']) assert.equal(box.push(s), true)
    assert.equal(box.size, 3)
    assert.deepEqual(drain(box), ['a', 'b', 'c'])
    assert.equal(box.size, 0)
  })

  it('keeps FIFO order while growing past its initial allocation', () => {
    const box = new Mailbox<number>(1000)
    for (const n of range(0, 1000)) assert.equal(box.push(n), true)
    assert.equal(box.size, 1000)
    assert.deepEqual(drain(box), range(0, 1000))
  })

  it('keeps FIFO order when it wraps around and then grows while wrapped', () => {
    const box = new Mailbox<number>(500)
    let next = 0
    let expected = 0
    // Fill part of the 64-slot ring, consume most of it so head moves on, then refill past the end.
    for (let i = 0; i < 50; i++) box.push(next++)
    for (let i = 0; i < 40; i++) assert.equal(box.shift(), expected++)
    for (let i = 0; i < 50; i++) box.push(next++) // wraps: 60 items, head at 40
    for (let i = 0; i < 100; i++) box.push(next++) // grows while wrapped
    assert.equal(box.size, 160)
    assert.deepEqual(drain(box), range(expected, next))
  })

  it('keeps FIFO order over many interleaved pushes and shifts', () => {
    const box = new Mailbox<number>(300)
    let next = 0
    let expected = 0
    for (let round = 0; round < 200; round++) {
      const pushes = (round * 7) % 13
      const shifts = (round * 5) % 11
      for (let i = 0; i < pushes; i++) if (box.push(next)) next++
      for (let i = 0; i < shifts; i++) {
        const item = box.shift()
        if (item === undefined) break
        assert.equal(item, expected++)
      }
      assert.equal(box.size, next - expected)
    }
    assert.deepEqual(drain(box), range(expected, next))
  })

  it('refuses a push at capacity without losing or reordering anything', () => {
    const box = new Mailbox<number>(3)
    assert.equal(box.push(1), true)
    assert.equal(box.push(2), true)
    assert.equal(box.push(3), true)
    assert.equal(box.full, true)
    assert.equal(box.push(4), false)
    assert.equal(box.size, 3)
    assert.equal(box.shift(), 1)
    assert.equal(box.full, false)
    assert.equal(box.push(5), true)
    assert.equal(box.push(6), false)
    assert.deepEqual(drain(box), [2, 3, 5])
  })

  it('refuses at a capacity that is not a power of two, above the initial allocation', () => {
    const box = new Mailbox<number>(100)
    for (const n of range(0, 100)) assert.equal(box.push(n), true, `push ${n}`)
    assert.equal(box.push(100), false)
    assert.equal(box.size, 100)
    assert.deepEqual(drain(box), range(0, 100))
  })

  it('capacity 1 holds one message', () => {
    const box = new Mailbox<string>(1)
    assert.equal(box.push('a'), true)
    assert.equal(box.push('b'), false)
    assert.equal(box.shift(), 'a')
    assert.equal(box.push('c'), true)
    assert.equal(box.shift(), 'c')
  })

  it('clear empties it and it works normally afterwards', () => {
    const box = new Mailbox<number>(200)
    for (const n of range(0, 150)) box.push(n)
    box.shift()
    box.clear()
    assert.equal(box.size, 0)
    assert.equal(box.full, false)
    assert.equal(box.shift(), undefined)
    for (const n of range(1000, 1200)) assert.equal(box.push(n), true)
    assert.equal(box.push(0), false)
    assert.deepEqual(drain(box), range(1000, 1200))
  })

  it('falsy items (0, "", false, null) are stored and returned', () => {
    const box = new Mailbox<unknown>(10)
    for (const v of [0, '', false, null]) box.push(v)
    assert.equal(box.size, 4)
    assert.equal(box.shift(), 0)
    assert.equal(box.shift(), '')
    assert.equal(box.shift(), false)
    assert.equal(box.shift(), null)
    assert.equal(box.size, 0)
  })
})
