import assert from 'node:assert/strict'
import { monitorKind } from '../../actors/monitor.js'
import { ALERT_CODES } from '../../src/wire/alert-codes.js'
import { topics } from '../../src/wire/topics.js'
import type { ChatMessage, Liveness } from '../../src/actor/types.js'
import { fakeContext } from '../helpers/actor-context.js'

const WARNING_MS = 10_000
const CRITICAL_MS = 30_000

/** The monitor on a fake context: the test sets each watched actor's last sign of life and ticks its heartbeat. */
function monitor () {
  const watched = new Map<string, Liveness>()
  const { ctx, clock, record } = fakeContext({ staleWarningMs: WARNING_MS, staleCriticalMs: CRITICAL_MS }, {
    liveness: () => [...watched.values()],
    count: () => watched.size + 1,
  })
  const behaviour = monitorKind.create(ctx, {})
  const actor = (name: string, state: Liveness['state'] = 'running'): Liveness => {
    const entry = { id: `id-${name}`, name, state, lastSignMs: clock.now() }
    watched.set(entry.id, entry)
    return entry
  }
  /** One monitor tick: the alerts it raised as `severity subject`, and its health publish. */
  const tick = () => {
    const beat = behaviour.heartbeat?.()
    const alerts = record.alerts.splice(0).map((a) => {
      assert.equal(a.extra.code, a.severity === 'info' ? ALERT_CODES.heartbeatResumed : ALERT_CODES.heartbeatMissing)
      return `${a.severity} ${String(a.extra.subject)}`
    })
    const health = record.published.splice(0).find((p) => p.topic === topics.systemHealth)?.payload
    return { alerts, health, beat }
  }
  return { clock, watched, actor, tick, ctx, chat: (content: string) => behaviour.chat?.({ type: 'chat', content } as ChatMessage) }
}

describe('actors/monitor: stale heartbeats, on a manual clock', () => {
  it('warning at staleWarningMs, critical at staleCriticalMs, each once per episode; info when it beats again', () => {
    const m = monitor()
    const a = m.actor('a')
    m.clock.advance(WARNING_MS - 1)
    assert.deepEqual(m.tick().alerts, [])
    m.clock.advance(1)
    assert.deepEqual(m.tick().alerts, ['warning id-a'])
    assert.deepEqual(m.tick().alerts, [], 'one warning per episode')
    m.clock.advance(CRITICAL_MS - WARNING_MS)
    assert.deepEqual(m.tick().alerts, ['critical id-a'])
    m.clock.advance(60_000)
    assert.deepEqual(m.tick().alerts, [], 'one critical per episode')
    a.lastSignMs = m.clock.now()
    assert.deepEqual(m.tick().alerts, ['info id-a'])
    assert.deepEqual(m.tick().alerts, [])
  })

  it('an actor silent past critical at the first look gets the critical alert only', () => {
    const m = monitor()
    m.actor('a')
    m.clock.advance(CRITICAL_MS)
    assert.deepEqual(m.tick().alerts, ['critical id-a'])
  })

  it('publishes system/health with the stale actors, and a stopped actor ends its episode silently', () => {
    const m = monitor()
    const a = m.actor('a')
    m.actor('b')
    m.clock.advance(WARNING_MS)
    m.watched.get('id-b')!.lastSignMs = m.clock.now()
    const first = m.tick()
    assert.deepEqual(first.alerts, ['warning id-a'])
    assert.deepEqual(first.health, { agentCount: 3, staleAgents: ['id-a'], timestampMs: m.clock.now() })
    assert.deepEqual(first.beat, { staleAgents: 1 })
    assert.equal(m.chat('health'), '3 agents; stale: id-a')

    a.state = 'stopped'
    const after = m.tick()
    assert.deepEqual(after.alerts, [], 'no info for an actor that stopped')
    assert.deepEqual((after.health as { staleAgents: string[] }).staleAgents, [])
    a.state = 'running'
    assert.deepEqual(m.tick().alerts, ['warning id-a'], 'running again and still silent: a new episode')
  })

  it('never watches itself, nor actors that are not live', () => {
    const m = monitor()
    m.watched.set(m.ctx.id, { id: m.ctx.id, name: 'monitor', state: 'running', lastSignMs: m.clock.now() })
    m.actor('f', 'failed')
    m.actor('s', 'stopped')
    m.actor('p', 'paused')
    m.actor('i', 'initializing')
    m.clock.advance(CRITICAL_MS)
    assert.deepEqual(m.tick().alerts.sort(), ['critical id-i', 'critical id-p'])
  })

  it('chat: health when all is well, help otherwise', () => {
    const m = monitor()
    assert.equal(m.chat('health'), '1 agents; stale: none')
    assert.match(m.chat('hello') as string, /^monitor-agent understands:\nhelp — this text\nhealth/)
  })
})
