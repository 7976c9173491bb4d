import assert from 'node:assert/strict'
import { setImmediate as loopTurn } from 'node:timers/promises'
import { ManualClock } from '../../../src/clock.js'
import { ColonyError } from '../../../src/errors.js'
import { createLogger } from '../../../src/log.js'
import { ActorCell, type CellHost } from '../../../src/actor/cell.js'
import { newCounters } from '../../../src/actor/counters.js'
import type { ActorKind, ActorMessage, Behaviour, SystemApi } from '../../../src/actor/types.js'
import type { Bus } from '../../../src/broker/bus.js'
import type { ColonyConfig } from '../../../src/config.js'
import type { WireState } from '../../../src/wire/payloads.js'
import { topics } from '../../../src/wire/topics.js'
import { ALERT_CODES } from '../../../src/wire/alert-codes.js'

/**
 * One cell on a host without a broker: the bus records what is published, the clock is manual, and the kind's
 * instances record what they handle, so the lifecycle and the mailbox are observed from outside the cell.
 */
function world (options: { capacity?: number, behaviour?: (instance: number, handled: number[]) => Partial<Behaviour> } = {}) {
  const clock = new ManualClock()
  const counters = newCounters()
  const published: Array<{ topic: string, payload: unknown }> = []
  const alerts: Array<{ subject: string, message: string, code: unknown }> = []
  const transitions: string[] = []
  const bus = {
    saturated: false,
    publish: (topic: string, payload: unknown, _options?: unknown, done?: (err?: Error) => void) => {
      published.push({ topic, payload })
      done?.(undefined)
    },
    publishJson: (topic: string, json: string, done?: (err?: Error) => void) => {
      published.push({ topic, payload: JSON.parse(json) })
      done?.(undefined)
    },
    subscribe: () => () => undefined,
  }
  const host: CellHost = {
    bus: bus as unknown as Bus,
    clock,
    config: { actors: { mailboxCapacity: options.capacity ?? 16 } } as ColonyConfig,
    api: {} as SystemApi,
    services: undefined,
    alert: (subject, _severity, message, extra) => { alerts.push({ subject, message, code: extra?.code }) },
    log: createLogger({ level: 'silent' }),
    counters,
    stateChanged: (_cell, previous: WireState, next: WireState) => { transitions.push(`${previous}->${next}`) },
  }
  /** What each instance (1 = first start, 2 = after the first restart...) handled, and whether it was stopped. */
  const instances: Array<{ handled: number[], stopped: boolean }> = []
  let waiting: { count: number, resolve: () => void } | undefined
  const handled = (): number[] => instances.flatMap((i) => i.handled)
  const kind: ActorKind<never> = {
    kind: 'probe',
    agentType: 'probe',
    help: 'ping — answers pong',
    create: () => {
      const record = { handled: [] as number[], stopped: false }
      instances.push(record)
      const extra = options.behaviour?.(instances.length, record.handled) ?? {}
      return {
        receive: (message: ActorMessage) => {
          record.handled.push(numberOf(message))
          if (waiting !== undefined && handled().length >= waiting.count) waiting.resolve()
        },
        stop: () => { record.stopped = true },
        ...extra,
      }
    },
  }
  const cell = new ActorCell(host, { id: 'a-1', name: 'probe-1', kind, options: undefined, supervisor: 'root', team: null })
  return {
    clock,
    counters,
    published,
    alerts,
    transitions,
    bus,
    cell,
    instances,
    handled,
    send: (...ns: number[]) => ns.map((n) => cell.enqueue({ type: 'work', n })),
    /** Resolves once `count` messages were handled in all. */
    handledCount: (count: number) => new Promise<void>((resolve) => {
      if (handled().length >= count) resolve()
      else waiting = { count, resolve }
    }),
  }
}

const numberOf = (message: ActorMessage): number => (message as { n?: number }).n ?? -1

/** Enough loop turns for any drain the cell could have started to have run. */
async function settle (): Promise<void> {
  for (let i = 0; i < 5; i++) await loopTurn()
}

describe('actor/cell: lifecycle and mailbox without a broker', () => {
  it('starts: initializing -> running, with its start time from the injected clock', async () => {
    const w = world()
    const started = w.clock.now()
    w.cell.start()
    const info = await w.cell.waitFor('running')
    assert.equal(info.state, 'running')
    assert.equal(info.startedAtMs, started)
    assert.deepEqual(w.transitions, ['initializing->running'])
    assert.equal(w.instances.length, 1)
  })

  it('handles queued messages in arrival order and counts them', async () => {
    const w = world()
    w.send(1, 2) // queued before it runs
    w.cell.start()
    await w.cell.waitFor('running')
    w.send(3, 4, 5)
    await w.handledCount(5)
    assert.deepEqual(w.handled(), [1, 2, 3, 4, 5])
    assert.equal(w.cell.stats().messagesProcessed, 5)
    assert.equal(w.counters.messagesProcessed, 5)
    assert.equal(w.cell.stats().mailboxDepth, 0)
  })

  it('paused: messages wait in the mailbox; resumed: they are handled in order', async () => {
    const w = world()
    w.cell.start()
    await w.cell.waitFor('running')
    w.cell.pause()
    await w.cell.waitFor('paused')
    w.send(1, 2, 3)
    await settle()
    assert.deepEqual(w.handled(), [])
    assert.equal(w.cell.stats().mailboxDepth, 3)
    w.cell.resume()
    await w.handledCount(3)
    assert.deepEqual(w.handled(), [1, 2, 3])
    assert.deepEqual(w.transitions, ['initializing->running', 'running->paused', 'paused->running'])
  })

  it('pause and resume are idempotent where they already hold and refused where they make no sense', async () => {
    const w = world()
    w.cell.start()
    await w.cell.waitFor('running')
    w.cell.resume() // running already: nothing
    w.cell.pause()
    w.cell.pause() // paused already: nothing
    assert.deepEqual(w.transitions, ['initializing->running', 'running->paused'])
    await w.cell.stop()
    for (const command of [() => w.cell.pause(), () => w.cell.resume()]) {
      assert.throws(command, (err: unknown) => err instanceof ColonyError && err.code === 'actor_invalid_state' &&
        (err.details as { state?: string } | undefined)?.state === 'stopped')
    }
  })

  it('stopped: the instance is stopped and queued messages are never handled', async () => {
    const w = world()
    w.cell.start()
    await w.cell.waitFor('running')
    w.cell.pause()
    w.send(1, 2)
    const info = await w.cell.stop()
    assert.equal(info.state, 'stopped')
    assert.equal(w.instances[0]?.stopped, true)
    w.send(3)
    await settle()
    assert.deepEqual(w.handled(), [])
    assert.equal(w.cell.live, false)
    assert.equal(w.cell.heartbeat(w.clock.now()), undefined, 'a stopped actor sends no heartbeat')
  })

  it('a crash drops the crashing message; a restart gives a fresh instance that handles the rest in order', async () => {
    const w = world({
      behaviour: (instance, handled) => instance === 1
        ? {
            receive: (message: ActorMessage) => {
              if (numberOf(message) === 2) throw new Error('bad message 2')
              handled.push(numberOf(message))
            },
          }
        : {},
    })
    w.cell.start()
    await w.cell.waitFor('running')
    w.cell.pause()
    w.send(1, 2, 3, 4)
    w.cell.resume()
    const failed = await w.cell.waitFor('failed')
    assert.equal(failed.error, 'bad message 2')
    assert.deepEqual(w.instances[0]?.handled, [1])
    assert.equal(w.cell.stats().mailboxDepth, 2, 'only the crashing message left the mailbox')
    await settle()
    assert.equal(w.instances[0]?.stopped, true, 'the crashed instance is released without waiting for a restart')

    await w.cell.suspend()
    assert.equal(await w.cell.restartNow(), true)
    await w.handledCount(3)
    assert.deepEqual(w.instances.map((i) => i.handled), [[1], [3, 4]])
    const info = w.cell.info()
    assert.equal(info.state, 'running')
    assert.equal(info.restarts, 1)
    assert.equal(info.error, null, 'the error is shown only while failed')
    assert.equal(w.cell.starts, 2)
  })

  it('a supervisor restart of a running actor keeps its queue: suspend releases it, restartNow starts anew', async () => {
    const w = world()
    w.cell.start()
    await w.cell.waitFor('running')
    w.cell.pause()
    w.send(1, 2)
    assert.equal(await w.cell.restartNow(), false, 'not down: nothing to restart')
    await w.cell.suspend()
    assert.equal(w.cell.state, 'restarting')
    assert.equal(w.instances[0]?.stopped, true)
    w.send(3)
    assert.equal(await w.cell.restartNow(), true)
    await w.handledCount(3)
    assert.deepEqual(w.instances.map((i) => i.handled), [[], [1, 2, 3]])
  })

  it('a given-up cell ends failed with the reason, and stays out of the live states', async () => {
    const w = world()
    w.cell.start()
    await w.cell.waitFor('running')
    w.cell.giveUp('too many restarts')
    const info = await w.cell.waitFor('failed')
    assert.equal(info.error, 'too many restarts')
    assert.equal(w.cell.givenUp, true)
    assert.equal(w.cell.live, false)
  })

  it('a full mailbox refuses, counts every refusal and raises one mailbox_full alert per episode', async () => {
    const w = world({ capacity: 2 })
    w.cell.start()
    await w.cell.waitFor('running')
    w.cell.pause()
    assert.deepEqual(w.send(1, 2, 3, 4), [true, true, false, false])
    assert.equal(w.counters.mailboxRejected, 2)
    assert.deepEqual(w.alerts.map((a) => [a.subject, a.code]), [['a-1', ALERT_CODES.mailboxFull]])
    assert.match(w.alerts[0]?.message ?? '', /mailbox of probe-1 is full \(2 messages\)/)
    w.cell.resume()
    await w.handledCount(2)
    assert.deepEqual(w.send(5, 6, 7), [true, true, false])
    assert.equal(w.alerts.length, 2, 'drained, then full again: a new episode')
  })

  it('heartbeat: uptime and depth from the manual clock; a behaviour can skip a beat; a saturated bus defers it', async () => {
    let vouch = true
    const w = world({ behaviour: () => ({ heartbeat: () => vouch ? { load: 7 } : false }) })
    w.cell.start()
    await w.cell.waitFor('running')
    w.cell.pause()
    w.send(1)
    w.clock.advance(2500)
    assert.equal(w.cell.beat(), true)
    const beat = w.published.find((p) => p.topic === topics.heartbeat('a-1'))?.payload as Record<string, unknown>
    assert.equal(beat.uptimeMs, 2500)
    assert.equal(beat.timestampMs, w.clock.now())
    assert.equal(beat.mailboxDepth, 1)
    assert.equal(beat.state, 'paused')
    assert.equal(beat.load, 7)
    assert.deepEqual(Object.keys(beat), ['load', 'agentId', 'agentName', 'state', 'timestampMs', 'mailboxDepth', 'messagesProcessed', 'restarts', 'uptimeMs'])
    assert.equal(w.cell.stats().lastHeartbeatMs, w.clock.now())

    vouch = false
    assert.equal(w.cell.beat(), true)
    assert.equal(w.counters.heartbeatsSkipped, 1)
    w.bus.saturated = true
    assert.equal(w.cell.beat(), false, 'retry me later')
    assert.equal(w.counters.heartbeatsDeferred, 1)
    assert.equal(w.counters.heartbeatsPublished, 1)
  })

  it('heartbeat JSON is what stringifying {...extra, own fields} gives, whatever the extra fields are called', async () => {
    let extra: Record<string, unknown> = {}
    const w = world({ behaviour: () => ({ heartbeat: () => extra }) })
    w.cell.start()
    await w.cell.waitFor('running')
    w.clock.advance(10)
    const own = (): Record<string, unknown> => ({
      agentId: w.cell.id, agentName: w.cell.name, state: 'running', timestampMs: w.clock.now(), mailboxDepth: 0, messagesProcessed: 0, restarts: 0, uptimeMs: 10,
    })
    for (const fields of [{}, { load: 7, note: 'a "quoted"\nline' }, { state: 'mine', load: 1 }, { agentId: 'spoof' }]) {
      extra = fields
      assert.equal(w.cell.heartbeat(w.clock.now()), JSON.stringify({ ...fields, ...own() }), JSON.stringify(fields))
    }
  })

  it('a kind without chat answers a chat line with its help, on its own chat topic, in reply to the line', async () => {
    const w = world()
    w.cell.start()
    await w.cell.waitFor('running')
    w.cell.enqueue({ type: 'chat', id: 'm-1', from: 'alice', to: 'probe-1', content: 'dance now', timestampMs: 0 })
    await settle()
    const reply = w.published.find((p) => p.topic === topics.chat('a-1'))?.payload as Record<string, unknown>
    assert.equal(reply.to, 'alice')
    assert.equal(reply.inReplyTo, 'm-1')
    assert.equal(reply.content, 'probe-1 does not understand "dance". It understands:\nping — answers pong')
  })
})
