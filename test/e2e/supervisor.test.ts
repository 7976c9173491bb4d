import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { get, post } from '../helpers/http.js'
import { starts, TEST_KINDS } from '../helpers/kinds.js'
import type { Strategy } from '../../src/config.js'

describe('supervisor strategies (real runtime, observed over MQTT and REST)', () => {
  let colony: TestColony
  let mqtt: Recorder

  beforeEach(async () => {
    starts.clear()
    colony = await startColony({ kinds: TEST_KINDS })
    mqtt = await connect(colony.rt.urls.mqtt)
    await mqtt.subscribe('agents/+/status', 'agents/+/alert', 'agents/+/chat')
  })
  afterEach(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  async function group (strategy: Strategy, names: string[], maxRestarts = 3): Promise<Record<string, string>> {
    colony.rt.actors.createSupervisor({ id: `g-${strategy}`, strategy, maxRestarts, restartWindowMs: 60_000 })
    const ids: Record<string, string> = {}
    for (const name of names) {
      const info = await colony.rt.actors.spawn('crashy', { name, supervisor: `g-${strategy}` })
      assert.equal(info.state, 'running')
      ids[name] = info.id
    }
    // Marks taken after this point must not see the spawn-time statuses still in flight.
    for (const id of Object.values(ids)) await mqtt.next((m) => m.topic === `agents/${id}/status` && m.json?.state === 'running')
    return ids
  }

  /** Crashes `name` through its chat handler and waits until the supervisor has finished with it. */
  async function crash (name: string): Promise<void> {
    const res = await post(`${colony.rt.urls.http}/api/chat`, { to: name, content: 'crash' })
    assert.equal(res.status, 202)
    const id = res.body.agentId as string
    await mqtt.next((m) => m.topic === `agents/${id}/status` && m.json?.state === 'failed', { what: `${name} failed` })
    await colony.rt.actors.settled()
  }

  async function expectActor (name: string, expected: { starts: number, restarts: number, state: string }): Promise<void> {
    const res = await get(`${colony.rt.urls.http}/api/actors/${name}`)
    assert.deepEqual({ starts: starts.get(name), restarts: res.body.restarts, state: res.body.state }, expected, name)
  }

  it('one_for_one: the crashing actor restarts once, its sibling not at all', async () => {
    const ids = await group('one_for_one', ['a', 'b'])
    const from = mqtt.mark
    await crash('a')
    await expectActor('a', { starts: 2, restarts: 1, state: 'running' })
    await expectActor('b', { starts: 1, restarts: 0, state: 'running' })
    const restartAlert = await mqtt.next((m) => m.topic === `agents/${ids.a}/alert` && m.json?.code === 'actor_restarted', { from })
    assert.equal(restartAlert.json.severity, 'info')
    assert.match(restartAlert.json.message, /crashed: a was told to crash/)
    assert.equal(mqtt.on(`agents/${ids.b}/status`, from).length, 0, 'the sibling never changed state')
    // The restarted actor works: it answers chat again.
    await post(`${colony.rt.urls.http}/api/chat`, { to: 'a', content: 'ping' })
    await mqtt.next((m) => m.topic === `agents/${ids.a}/chat` && m.json?.content === 'ok ping', { from })
  })

  it('one_for_all: both restart once', async () => {
    const ids = await group('one_for_all', ['a', 'b'])
    const from = mqtt.mark
    await crash('a')
    await expectActor('a', { starts: 2, restarts: 1, state: 'running' })
    await expectActor('b', { starts: 2, restarts: 1, state: 'running' })
    const states = mqtt.on(`agents/${ids.b}/status`, from).map((m) => m.json.state)
    assert.deepEqual(states, ['restarting', 'initializing', 'running'])
    const alert = await mqtt.next((m) => m.topic === `agents/${ids.b}/alert` && m.json?.code === 'actor_restarted', { from })
    assert.match(alert.json.message, /restarted with a \(one_for_all\)/)
  })

  it('rest_for_one: the crashing actor and those started after it restart once, the one before it not at all', async () => {
    const ids = await group('rest_for_one', ['a', 'b', 'c'])
    const from = mqtt.mark
    await crash('b')
    await expectActor('a', { starts: 1, restarts: 0, state: 'running' })
    await expectActor('b', { starts: 2, restarts: 1, state: 'running' })
    await expectActor('c', { starts: 2, restarts: 1, state: 'running' })
    assert.equal(mqtt.on(`agents/${ids.a}/status`, from).length, 0)
  })

  it('an async crash (rejected promise) reaches the supervisor too', async () => {
    await group('one_for_one', ['a'])
    const res = await post(`${colony.rt.urls.http}/api/chat`, { to: 'a', content: 'crash-async' })
    await mqtt.next((m) => m.topic === `agents/${res.body.agentId}/status` && m.json?.state === 'failed')
    await colony.rt.actors.settled()
    await expectActor('a', { starts: 2, restarts: 1, state: 'running' })
  })

  it('a budget exhausted -> failed + critical alert, and it stays failed', async () => {
    const ids = await group('one_for_all', ['a', 'b'], 2)
    const from = mqtt.mark
    await crash('a')
    await crash('a')
    await expectActor('a', { starts: 3, restarts: 2, state: 'running' })
    await crash('a')
    await expectActor('a', { starts: 3, restarts: 2, state: 'failed' })
    await expectActor('b', { starts: 3, restarts: 2, state: 'failed' })
    for (const name of ['a', 'b']) {
      const alert = await mqtt.next((m) => m.topic === `agents/${ids[name]}/alert` && m.json?.severity === 'critical', { from })
      assert.equal(alert.json.code, 'supervisor_gave_up')
      assert.match(alert.json.message, /gave up/)
    }
    const failed = await mqtt.next((m) => m.topic === `agents/${ids.b}/status` && m.json?.state === 'failed', { from })
    assert.match(failed.json.error, /gave up/)
    // A given-up actor takes no more messages.
    const refused = await post(`${colony.rt.urls.http}/api/chat`, { to: 'a', content: 'ping' })
    assert.equal(refused.status, 409)
    assert.equal(refused.body.error.code, 'actor_invalid_state')
  })

  it('an actor whose start keeps failing ends failed after its budget', async () => {
    colony.rt.actors.createSupervisor({ id: 'g', strategy: 'one_for_one', maxRestarts: 2, restartWindowMs: 60_000 })
    const info = await colony.rt.actors.spawn('crashy', { name: 'never', supervisor: 'g', options: { failStart: true } })
    assert.equal(info.state, 'failed')
    await mqtt.next((m) => m.topic === `agents/${info.id}/alert` && m.json?.severity === 'critical')
    await colony.rt.actors.settled()
    assert.equal(starts.get('never'), 3)
    assert.equal(colony.rt.system.get('never')?.state, 'failed')
  })

  it('deleting a crashed actor before its restart does not resurrect it', async () => {
    await group('one_for_one', ['a'])
    const res = await post(`${colony.rt.urls.http}/api/chat`, { to: 'a', content: 'crash' })
    await colony.rt.system.remove('a')
    await colony.rt.actors.settled()
    assert.equal(colony.rt.system.get('a'), undefined)
    assert.equal(colony.rt.system.get(res.body.agentId as string), undefined)
  })
})
