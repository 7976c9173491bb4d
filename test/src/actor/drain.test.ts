import assert from 'node:assert/strict'
import { Mailbox } from '../../../src/actor/mailbox.js'
import { Drain, DRAIN_BATCH, type DrainTarget } from '../../../src/actor/drain.js'

/**
 * A drain over a recording target. Scheduling is manual: `flush()` runs what the drain asked to run and lets it
 * finish, so a test decides when a drain happens and can look at the queue in between.
 */
function harness (capacity: number, handle: (message: number) => Promise<void> | undefined = () => undefined) {
  const log = {
    handled: [] as number[],
    processed: 0,
    crashes: [] as Array<{ err: unknown, message: number }>,
    refusals: [] as boolean[],
    yields: 0,
    scheduled: 0,
  }
  let ready = true
  const queued: Array<() => void> = []
  const target: DrainTarget<number> = {
    ready: () => ready,
    handle: (message) => {
      log.handled.push(message)
      return handle(message)
    },
    processed: () => { log.processed++ },
    crashed: (err, message) => { log.crashes.push({ err, message }) },
    refused: (first) => { log.refusals.push(first) },
  }
  const mailbox = new Mailbox<number>(capacity)
  const drain = new Drain(mailbox, target, {
    schedule: (run) => {
      log.scheduled++
      queued.push(run)
    },
    yieldToLoop: async () => { log.yields++ },
  })
  return {
    drain,
    mailbox,
    log,
    setReady: (value: boolean) => { ready = value },
    async flush (): Promise<void> {
      while (queued.length > 0) queued.shift()!()
      // Let the async drain loop (awaits of handlers and yields) run to its end.
      for (let i = 0; i < 1000; i++) await Promise.resolve()
    },
  }
}

describe('actor/drain: the mailbox policy', () => {
  it('handles messages one at a time in arrival order, once each', async () => {
    const h = harness(10)
    for (const n of [1, 2, 3, 4]) assert.equal(h.drain.offer(n), true)
    assert.deepEqual(h.log.handled, [], 'nothing is handled synchronously inside offer')
    await h.flush()
    assert.deepEqual(h.log.handled, [1, 2, 3, 4])
    assert.equal(h.log.processed, 4)
    assert.equal(h.mailbox.size, 0)
  })

  it('schedules one drain for a burst, not one per message', async () => {
    const h = harness(10)
    for (const n of [1, 2, 3]) h.drain.offer(n)
    assert.equal(h.log.scheduled, 1)
    await h.flush()
    h.drain.offer(4)
    assert.equal(h.log.scheduled, 2, 'a message after the drain ended starts a new one')
  })

  it('waits for an async handler before taking the next message', async () => {
    const order: string[] = []
    const gates: Array<() => void> = []
    const h = harness(10, (n) => {
      order.push(`start ${n}`)
      return new Promise<void>((resolve) => gates.push(() => { order.push(`end ${n}`); resolve() }))
    })
    h.drain.offer(1)
    h.drain.offer(2)
    await h.flush()
    assert.deepEqual(order, ['start 1'])
    h.drain.offer(3)
    assert.equal(h.log.scheduled, 1, 'no second drain while one is running')
    gates.shift()!()
    await h.flush()
    assert.deepEqual(order, ['start 1', 'end 1', 'start 2'])
    gates.shift()!()
    await h.flush()
    gates.shift()!()
    await h.flush()
    assert.deepEqual(h.log.handled, [1, 2, 3])
  })

  it('while not ready (paused, restarting, stopped) queues without handling, and a kick drains in order', async () => {
    const h = harness(10)
    h.setReady(false)
    for (const n of [1, 2, 3]) assert.equal(h.drain.offer(n), true)
    await h.flush()
    assert.equal(h.log.scheduled, 0)
    assert.deepEqual(h.log.handled, [])
    assert.equal(h.mailbox.size, 3)
    h.setReady(true)
    h.drain.kick()
    await h.flush()
    assert.deepEqual(h.log.handled, [1, 2, 3])
  })

  it('stops between messages when the actor stops being ready, keeping the rest queued', async () => {
    const h = harness(10, (n) => {
      if (n === 2) h.setReady(false) // e.g. the message pauses its own actor
      return undefined
    })
    for (const n of [1, 2, 3, 4]) h.drain.offer(n)
    await h.flush()
    assert.deepEqual(h.log.handled, [1, 2])
    assert.deepEqual(h.mailbox.size, 2)
    h.setReady(true)
    h.drain.kick()
    await h.flush()
    assert.deepEqual(h.log.handled, [1, 2, 3, 4])
  })

  it('a throwing message is reported as a crash, dropped, and the rest stay queued for the next instance', async () => {
    const boom = new Error('boom')
    const h = harness(10, (n) => {
      if (n === 2) throw boom
      return undefined
    })
    for (const n of [1, 2, 3]) h.drain.offer(n)
    await h.flush()
    assert.deepEqual(h.log.crashes, [{ err: boom, message: 2 }])
    assert.equal(h.log.processed, 1, 'the crashing message does not count as processed')
    assert.equal(h.mailbox.size, 1)
    assert.equal(h.mailbox.shift(), 3)
  })

  it('a rejected promise is a crash just like a throw, and the drain ends there', async () => {
    const h = harness(10, (n) => n === 1 ? Promise.reject(new Error('async boom')) : undefined)
    h.drain.offer(1)
    h.drain.offer(2)
    await h.flush()
    assert.equal(h.log.crashes.length, 1)
    assert.equal(h.log.crashes[0]?.message, 1)
    assert.deepEqual(h.log.handled, [1], 'the drain stops at a crash even though the target is still ready')
    h.drain.offer(3)
    await h.flush()
    assert.deepEqual(h.log.handled, [1, 2, 3], 'a later drain can start: the crash did not leave it stuck')
  })

  it(`lets the event loop run after every ${DRAIN_BATCH} messages`, async () => {
    const h = harness(1000)
    for (let n = 0; n < DRAIN_BATCH * 2 + 5; n++) h.drain.offer(n)
    await h.flush()
    assert.equal(h.log.handled.length, DRAIN_BATCH * 2 + 5)
    assert.equal(h.log.yields, 2)
  })

  it('refuses at capacity without dropping or reordering what is queued', async () => {
    const h = harness(2)
    h.setReady(false)
    assert.equal(h.drain.offer(1), true)
    assert.equal(h.drain.offer(2), true)
    assert.equal(h.drain.offer(3), false)
    assert.equal(h.mailbox.size, 2)
    h.setReady(true)
    h.drain.kick()
    await h.flush()
    assert.deepEqual(h.log.handled, [1, 2])
  })

  it('reports one overflow episode until the mailbox drains to half, then a new one', async () => {
    let budget = 0
    const h = harness(4, () => {
      if (--budget === 0) h.setReady(false)
      return undefined
    })
    /** Lets the actor handle `n` messages, then makes it not ready again. */
    const handle = async (n: number): Promise<void> => {
      budget = n
      h.setReady(true)
      h.drain.kick()
      await h.flush()
    }
    h.setReady(false)
    for (const n of [1, 2, 3, 4]) h.drain.offer(n)
    h.drain.offer(5)
    h.drain.offer(6)
    assert.deepEqual(h.log.refusals, [true, false], 'every refusal is reported, only the first as a new episode')

    await handle(1)
    assert.equal(h.mailbox.size, 3)
    assert.equal(h.drain.offer(7), true)
    assert.equal(h.drain.offer(8), false)
    assert.deepEqual(h.log.refusals, [true, false, false], 'one handled is not drained yet: same episode')

    await handle(2)
    assert.equal(h.mailbox.size, 2)
    assert.equal(h.drain.offer(9), true)
    assert.equal(h.drain.offer(10), true)
    assert.equal(h.drain.offer(11), false)
    assert.deepEqual(h.log.refusals, [true, false, false, true], 'drained to half: the next refusal is a new episode')
    assert.deepEqual(h.log.handled, [1, 2, 3])
  })
})
