import { createIdentity } from '../../../src/auth/index.js'
import { createAcl } from '../../../src/acl.js'
import { loadConfig } from '../../../src/assembly.js'
import assert from 'node:assert/strict'
import { Aedes } from 'aedes'
import { Broker } from '../../../src/broker/broker.js'
import { Bus, type BusMessage } from '../../../src/broker/bus.js'
import { ManualClock } from '../../../src/clock.js'
import { createLogger } from '../../../src/log.js'

/** Collects what a bus handler receives; `until` resolves once the collected list satisfies a condition. */
class Inbox {
  readonly messages: BusMessage[] = []
  private waiters: Array<{ ok: (m: BusMessage[]) => boolean, resolve: () => void }> = []
  readonly handler = (m: BusMessage): void => {
    this.messages.push(m)
    this.waiters = this.waiters.filter((w) => { if (w.ok(this.messages)) { w.resolve(); return false } return true })
  }

  until (ok: (m: BusMessage[]) => boolean): Promise<void> {
    if (ok(this.messages)) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ ok, resolve }))
  }

  has (topic: string): Promise<void> { return this.until((ms) => ms.some((m) => m.topic === topic)) }
  topics (): string[] { return this.messages.map((m) => m.topic) }
  texts (topic: string): string[] { return this.messages.filter((m) => m.topic === topic).map((m) => m.payload.toString()) }
}

interface Setup { bus: Bus, aedes: Aedes, logs: Array<Record<string, unknown>>, close(): Promise<void> }

/**
 * In-process deliveries complete synchronously, so the bus never queues with only bus subscribers. A subscriber
 * that acknowledges on a later turn (as a slow MQTT client does) makes Aedes' publishes asynchronous.
 */
function slowSubscriber (aedes: Aedes, filter: string): void {
  aedes.subscribe(filter, (_packet, cb) => { setImmediate(cb) }, () => {})
}

const MAX_INFLIGHT = 10

function logger (logs: Array<Record<string, unknown>>): ReturnType<typeof createLogger> {
  return createLogger({ level: 'info', destination: { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>) } } })
}

const setups: Record<string, () => Promise<Setup>> = {
  'Broker.create': async () => {
    const logs: Array<Record<string, unknown>> = []
    const clock = new ManualClock()
    const identity = createIdentity(loadConfig({
      env: {},
      overrides: { store: { file: ':memory:' }, auth: { jwtSecret: 'a-test-secret-that-is-long-enough-0123456789' } },
    }), clock, logger(logs))
    const broker = await Broker.create({
      log: logger(logs), clock, maxPacketBytes: 1 << 20, maxInflightPublishes: MAX_INFLIGHT,
      gate: identity.gate, acl: createAcl({ teamOf: () => null }, 'homeassistant'),
    })
    return {
      bus: broker.bus,
      aedes: broker.aedes,
      logs,
      close: async () => {
        await broker.close()
        identity.store.close()
      },
    }
  },
  'Aedes.createBroker': async () => {
    const logs: Array<Record<string, unknown>> = []
    const aedes = await Aedes.createBroker()
    const bus = new Bus(aedes, logger(logs), MAX_INFLIGHT)
    return { bus, aedes, logs, close: () => new Promise<void>((resolve) => aedes.close(() => resolve())) }
  },
}

for (const [name, setup] of Object.entries(setups)) {
  describe(`Bus (over ${name})`, () => {
    let s: Setup
    let bus: Bus
    beforeEach(async () => {
      s = await setup()
      bus = s.bus
    })
    afterEach(async () => {
      await bus.drained()
      await s.close()
    })

    it('delivers an object as JSON, recognised by isJson, with message metadata', async () => {
      const inbox = new Inbox()
      bus.subscribe('a/b', inbox.handler)
      const sent = { agentId: 'x', n: 1, nested: { ok: true } }
      await bus.publishAsync('a/b', sent)
      await inbox.has('a/b')
      const m = inbox.messages[0] as BusMessage
      assert.deepEqual(JSON.parse(m.payload.toString()), sent)
      assert.equal(bus.isJson(m.payload), true)
      assert.equal(m.retain, false)
      assert.equal(m.qos, 0)
      assert.equal(m.clientId, undefined)
    })

    it('delivers strings and Buffers as they are, not marked as JSON', async () => {
      const inbox = new Inbox()
      bus.subscribe('raw/+', inbox.handler)
      bus.publish('raw/s', 'plain text')
      bus.publish('raw/b', Buffer.from([0, 1, 2, 255]))
      bus.publish('raw/j', '{"looks":"like json"}')
      await inbox.until((ms) => ms.length === 3)
      assert.deepEqual(inbox.topics(), ['raw/s', 'raw/b', 'raw/j'])
      assert.equal(inbox.texts('raw/s')[0], 'plain text')
      assert.deepEqual(inbox.messages[1]?.payload, Buffer.from([0, 1, 2, 255]))
      assert.ok(inbox.messages.every((m) => !bus.isJson(m.payload)))
    })

    it('routes by topic filter', async () => {
      const plus = new Inbox()
      const hash = new Inbox()
      const exact = new Inbox()
      bus.subscribe('agents/+/chat', plus.handler)
      bus.subscribe('agents/#', hash.handler)
      bus.subscribe('agents/x/chat', exact.handler)
      for (const t of ['agents/x/chat', 'agents/y/chat', 'agents/x/status', 'agents', 'io/chat', 'agents/x/chat/deep']) bus.publish(t, t)
      bus.publish('end', 'end')
      await bus.drained()
      assert.deepEqual(plus.topics(), ['agents/x/chat', 'agents/y/chat'])
      assert.deepEqual(hash.topics(), ['agents/x/chat', 'agents/y/chat', 'agents/x/status', 'agents', 'agents/x/chat/deep'])
      assert.deepEqual(exact.topics(), ['agents/x/chat'])
    })

    it('does not deliver $SYS topics to filters starting with a wildcard', async () => {
      const all = new Inbox()
      const plus = new Inbox()
      const sys = new Inbox()
      bus.subscribe('#', all.handler)
      bus.subscribe('+/info', plus.handler)
      bus.subscribe('$SYS/#', sys.handler)
      bus.publish('$SYS/info', 'sys')
      bus.publish('app/info', 'app')
      await bus.drained()
      assert.deepEqual(all.topics(), ['app/info'])
      assert.deepEqual(plus.topics(), ['app/info'])
      assert.deepEqual(sys.topics(), ['$SYS/info'])
    })

    it('unsubscribe stops delivery to that handler only, and is safe to call twice', async () => {
      const gone = new Inbox()
      const kept = new Inbox()
      const unsubscribe = bus.subscribe('u/#', gone.handler)
      bus.subscribe('u/#', kept.handler)
      await bus.publishAsync('u/1', '1')
      unsubscribe()
      unsubscribe()
      await bus.publishAsync('u/2', '2')
      await kept.has('u/2')
      assert.deepEqual(gone.topics(), ['u/1'])
      assert.deepEqual(kept.topics(), ['u/1', 'u/2'])
    })

    it('a throwing handler is logged and does not stop delivery to others or to itself', async () => {
      const other = new Inbox()
      let calls = 0
      bus.subscribe('t/#', () => { calls++; throw new Error('handler bug') })
      bus.subscribe('t/#', other.handler)
      bus.publish('t/1', '1')
      bus.publish('t/2', '2')
      await other.has('t/2')
      assert.equal(calls, 2)
      assert.ok(s.logs.some((l) => l.msg === 'bus subscriber threw; message skipped'))
    })

    describe('retained messages', () => {
      it('replays a retained message to a subscriber that asks for it, flagged retain', async () => {
        await bus.publishAsync('r/1', { v: 1 }, { retain: true })
        const inbox = new Inbox()
        bus.subscribe('r/+', inbox.handler, { retained: true })
        await inbox.has('r/1')
        assert.deepEqual(JSON.parse(inbox.messages[0]!.payload.toString()), { v: 1 })
        assert.equal(inbox.messages[0]?.retain, true)
      })

      it('replays only the latest retained value, and not to subscribers that did not ask', async () => {
        bus.publish('r/1', 'old', { retain: true })
        bus.publish('r/1', 'new', { retain: true })
        await bus.drained()
        const plain = new Inbox()
        const replay = new Inbox()
        bus.subscribe('r/#', plain.handler)
        bus.subscribe('r/#', replay.handler, { retained: true })
        await replay.has('r/1')
        await bus.publishAsync('r/marker', 'm')
        await plain.has('r/marker')
        assert.deepEqual(plain.topics(), ['r/marker'])
        assert.deepEqual(replay.texts('r/1'), ['new'])
      })

      it('an empty retained payload clears the retained message', async () => {
        bus.publish('r/c', 'value', { retain: true })
        bus.publish('r/c', '', { retain: true })
        bus.publish('r/last', 'x', { retain: true })
        await bus.drained()
        const inbox = new Inbox()
        bus.subscribe('r/#', inbox.handler, { retained: true })
        await inbox.has('r/last')
        assert.deepEqual(inbox.topics(), ['r/last'])
      })

      it('does not replay retained $SYS messages to #', async () => {
        bus.publish('$SYS/x', 'sys', { retain: true })
        bus.publish('app/x', 'app', { retain: true })
        await bus.drained()
        const all = new Inbox()
        const sys = new Inbox()
        bus.subscribe('#', all.handler, { retained: true })
        bus.subscribe('$SYS/#', sys.handler, { retained: true })
        await all.has('app/x')
        await sys.has('$SYS/x')
        await bus.publishAsync('app/end', 'end')
        await all.has('app/end')
        assert.deepEqual(all.topics(), ['app/x', 'app/end'])
      })

      it('a live message published during the replay is not overwritten by the older retained copy', async () => {
        for (let i = 0; i < 200; i++) bus.publish(`r/pre/${i}`, 'p', { retain: true })
        bus.publish('r/live', 'old', { retain: true })
        bus.publish('r/live-retained', 'old', { retain: true })
        bus.publish('r/zz', 'last', { retain: true })
        await bus.drained()
        const inbox = new Inbox()
        bus.subscribe('r/#', inbox.handler, { retained: true })
        bus.publish('r/live', 'new')
        bus.publish('r/live-retained', 'new', { retain: true })
        await inbox.until((ms) => ms.some((m) => m.topic === 'r/zz') &&
          inbox.texts('r/live').includes('new') && inbox.texts('r/live-retained').includes('new'))
        for (const topic of ['r/live', 'r/live-retained']) {
          const seen = inbox.texts(topic)
          assert.equal(seen.at(-1), 'new', `${topic}: ${seen.join(',')}`)
          assert.ok(!seen.slice(seen.indexOf('new')).includes('old'), `${topic}: old came after new (${seen.join(',')})`)
        }
        assert.equal(inbox.messages.filter((m) => m.topic.startsWith('r/pre/')).length, 200)
      })

      it('stops replaying to a subscriber that unsubscribed', async () => {
        for (let i = 0; i < 50; i++) bus.publish(`r/${i}`, 'x', { retain: true })
        await bus.drained()
        const inbox = new Inbox()
        const unsubscribe = bus.subscribe('r/#', inbox.handler, { retained: true })
        unsubscribe()
        const witness = new Inbox()
        bus.subscribe('r/#', witness.handler, { retained: true })
        await witness.has('r/49')
        assert.equal(inbox.messages.length, 0)
      })
    })

    describe('back-pressure', () => {
      it('delivers a burst far larger than maxInflight completely and in order', async () => {
        const N = 5000
        const inbox = new Inbox()
        bus.subscribe('burst/#', inbox.handler)
        slowSubscriber(s.aedes, 'burst/#')
        let done = 0
        for (let n = 0; n < N; n++) bus.publish(`burst/${n % 7}`, { n }, { retain: n % 3 === 0 }, () => { done++ })
        assert.equal(bus.saturated, true)
        assert.ok(bus.backlog >= N - MAX_INFLIGHT, `backlog ${bus.backlog}`)
        await bus.drained()
        assert.equal(done, N)
        assert.equal(bus.backlog, 0)
        assert.equal(bus.saturated, false)
        const ns = inbox.messages.map((m) => (JSON.parse(m.payload.toString()) as { n: number }).n)
        assert.equal(ns.length, N)
        assert.ok(ns.every((n, i) => n === i), 'messages arrived out of order')
      })

      it('drained() resolves at once when idle and after the last of many publishes', async () => {
        await bus.drained()
        slowSubscriber(s.aedes, 'd')
        let done = 0
        for (let i = 0; i < 100; i++) bus.publish('d', 'x', {}, () => { done++ })
        assert.ok(done < 100, 'the slow subscriber makes publishes asynchronous')
        const waits = [bus.drained(), bus.drained()]
        await Promise.all(waits)
        assert.equal(done, 100)
        assert.equal(bus.published, 100)
      })

      it('a burst queued behind a slow subscriber completes without growing the stack (issue 10 item 5)', async () => {
        // Publishes to an in-process subscriber complete synchronously; queued behind slow ones, each completion
        // used to send the next queued publish on the same stack until it overflowed.
        const N = 20_000
        slowSubscriber(s.aedes, 'slow')
        const inbox = new Inbox()
        bus.subscribe('fast/#', inbox.handler)
        for (let i = 0; i < MAX_INFLIGHT; i++) bus.publish('slow', 'x')
        for (let n = 0; n < N; n++) bus.publish(`fast/${n % 3}`, String(n))
        for (let n = 0; n < N; n++) bus.publish(`nobody/${n % 3}`, String(n))
        assert.ok(bus.backlog >= 2 * N, `backlog ${bus.backlog}`)
        await bus.drained()
        assert.equal(bus.published, MAX_INFLIGHT + 2 * N)
        assert.deepEqual(inbox.messages.map((m) => Number(m.payload.toString())), Array.from({ length: N }, (_, n) => n))
        assert.equal(s.logs.filter((l) => (l.level as number) >= 50).length, 0, JSON.stringify(s.logs.slice(0, 3)))
      })

      it('a handler that publishes does not re-enter Aedes; its publishes go out in order after it returns', async () => {
        const replies = new Inbox()
        bus.subscribe('reply/#', replies.handler)
        let repliesInsideHandler = 0
        let inHandler = false
        bus.subscribe('ask', (m) => {
          inHandler = true
          bus.publish(`reply/${m.payload.toString()}`, m.payload)
          bus.publish(`reply/${m.payload.toString()}`, m.payload)
          inHandler = false
        })
        bus.subscribe('reply/#', () => { if (inHandler) repliesInsideHandler++ })
        for (let i = 0; i < 500; i++) bus.publish('ask', String(i))
        await bus.drained()
        assert.equal(repliesInsideHandler, 0, 'replies were delivered while the handler that published them was still running')
        assert.deepEqual(replies.messages.map((m) => Number(m.payload.toString())), Array.from({ length: 1000 }, (_, i) => Math.floor(i / 2)))
      })

      it('publishAsync resolves once the message is delivered', async () => {
        const inbox = new Inbox()
        bus.subscribe('p', inbox.handler)
        await bus.publishAsync('p', { a: 1 })
        assert.equal(inbox.messages.length, 1)
      })
    })
  })
}
