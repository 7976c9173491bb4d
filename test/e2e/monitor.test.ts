import assert from 'node:assert/strict'
import { ManualClock } from '../../src/clock.js'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { post } from '../helpers/http.js'
import { TEST_KINDS } from '../helpers/kinds.js'

describe('monitor-agent with an injected clock', () => {
  let colony: TestColony
  let mqtt: Recorder
  let clock: ManualClock

  beforeEach(async () => {
    clock = new ManualClock(Date.now())
    colony = await startColony({
      clock,
      kinds: TEST_KINDS,
      config: { actors: { heartbeatIntervalMs: 1000 }, monitor: { staleWarningMs: 3000, staleCriticalMs: 6000 } },
    })
    mqtt = await connect(colony.rt.urls.mqtt)
    await mqtt.subscribe('agents/+/alert', 'agents/+/chat', 'system/health')
  })
  afterEach(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  /** One second of simulated time, then wait for the monitor's health report of that second. */
  async function tick (): Promise<any> {
    const from = mqtt.mark
    clock.advance(1000)
    const now = clock.now()
    const health = await mqtt.next((m) => m.topic === 'system/health' && m.json.timestampMs > now - 1000, { from, what: 'system/health' })
    return health.json
  }

  async function chat (to: string, content: string): Promise<void> {
    const res = await post(`${colony.rt.urls.http}/api/chat`, { to, content })
    await mqtt.next((m) => m.json?.inReplyTo === res.body.id)
  }

  it('silent actor: one warning, then one critical, then one info when it beats again; never repeated within an episode', async () => {
    const { id } = await colony.rt.system.spawn('mutable', { name: 'm1' })
    const from = mqtt.mark
    for (let i = 0; i < 3; i++) assert.deepEqual((await tick()).staleAgents, [])
    await chat('m1', 'mute')

    const seen: string[] = []
    const monitorAlerts = (): any[] => mqtt.on(`agents/${id}/alert`, from).map((m) => m.json)
    for (let i = 0; i < 12; i++) {
      const health = await tick()
      const alerts = monitorAlerts()
      if (alerts.length > seen.length) seen.push(...alerts.slice(seen.length).map((a) => a.severity))
      if (seen.includes('warning')) assert.deepEqual(health.staleAgents, [id])
    }
    assert.deepEqual(seen, ['warning', 'critical'], 'one warning and one critical over 12 silent seconds')
    const [warning, critical] = monitorAlerts()
    assert.equal(warning.source, 'monitor-agent')
    assert.equal(warning.agentId, id)
    assert.match(warning.message, /Agent m1 has not sent a heartbeat in [3-4]s/)
    assert.ok(warning.silentMs >= 3000 && warning.silentMs < 6000)
    assert.ok(critical.silentMs >= 6000 && critical.silentMs < 9000)

    await chat('m1', 'unmute')
    for (let i = 0; i < 2; i++) await tick()
    const severities = monitorAlerts().map((a) => a.severity)
    assert.deepEqual(severities, ['warning', 'critical', 'info'])
    assert.match(monitorAlerts()[2].message, /sending heartbeats again/)
    for (let i = 0; i < 5; i++) assert.deepEqual((await tick()).staleAgents, [])
    assert.equal(monitorAlerts().length, 3, 'nothing more once it beats again')

    // A second episode alerts again.
    await chat('m1', 'mute')
    for (let i = 0; i < 5; i++) await tick()
    assert.deepEqual(monitorAlerts().map((a) => a.severity), ['warning', 'critical', 'info', 'warning'])
  })

  it('system/health carries agentCount, staleAgents and timestampMs on each tick', async () => {
    const health = await tick()
    assert.deepEqual(Object.keys(health).sort(), ['agentCount', 'staleAgents', 'timestampMs'])
    assert.equal(health.agentCount, colony.rt.system.list().length)
    assert.ok(health.timestampMs <= clock.now())
  })

  it('a stopped or deleted actor is not reported stale', async () => {
    const { id } = await colony.rt.system.spawn('mutable', { name: 'm2' })
    const from = mqtt.mark
    await colony.rt.system.stop('m2')
    for (let i = 0; i < 8; i++) assert.deepEqual((await tick()).staleAgents, [])
    assert.equal(mqtt.on(`agents/${id}/alert`, from).length, 0)
  })
})
