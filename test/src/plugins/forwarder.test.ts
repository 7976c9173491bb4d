import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../../helpers/runtime.js'
import { as, signup, type Account } from '../../helpers/identity.js'
import { create, fixture } from '../../helpers/components.js'
import { connect, type Recorder } from '../../helpers/mqtt.js'
import { topics } from '../../../src/wire/topics.js'
import type { Identity } from '../../../src/auth/identity.js'
import type { ForwardedEntry, PluginActivation } from '../../../src/plugins.js'

function identityOf (a: Account): Identity {
  return { kind: 'user', userId: a.user_id, email: a.email, name: a.name, teamId: a.team_id, isAdmin: false, teams: new Set([a.team_id]) }
}

// Golem-shaped entries with their own fields: the forwarder passes them on whole.
const created = { type: 'Create', timestamp: '2026-12-06T17:00:00.000Z', componentVersion: 0, args: [], env: {} }
const invoked = { type: 'ExportedFunctionInvoked', timestamp: '2026-12-06T17:00:00.001Z', functionName: 'add', request: [1, 2], idempotencyKey: 'k1' }
const completed = { type: 'ExportedFunctionCompleted', timestamp: '2026-12-06T17:00:00.002Z', response: 3, consumedFuel: 0 }
const entries: ForwardedEntry[] = [{ oplogIndex: 1, entry: created }, { oplogIndex: 2, entry: invoked }, { oplogIndex: 3, entry: completed }]

/** OplogForwarder over the real broker: an MQTT client of the plugin's team subscribes to the plugin's feed. */
describe('plugins: OplogForwarder publishes a worker\'s oplog batches on plugins/{pluginId}/oplog', function () {
  this.timeout(30_000)
  let colony: TestColony
  let base: string
  let alice: Account
  let bob: Account
  let component: string
  let activations: PluginActivation[]
  const clients: Recorder[] = []

  before(async () => {
    colony = await startColony({ config: { auth: { mode: 'required' } } })
    base = colony.rt.urls.http
    ;[alice, bob] = [await signup(base, 'Feeder'), await signup(base, 'Outsider')]
    component = await create(base, 'oplog-sink', await fixture('adder'), { token: alice.token })
    const register = async (body: unknown): Promise<void> => {
      const res = await as(alice.token, 'POST', `${base}/v1/accounts/me/plugins`, body)
      assert.equal(res.status, 200, JSON.stringify(res.body))
    }
    await register({ name: 'audit', version: '1', specs: { type: 'OplogProcessor', componentId: component, componentVersion: 0 } })
    await register({ name: 'lib', version: '1', specs: { type: 'Library' } })
    activations = []
    for (const name of ['audit', 'lib']) {
      const installed = await as(alice.token, 'POST', `${base}/v1/components/${component}/latest/plugins/installs`, { name, version: '1', priority: 0 })
      assert.equal(installed.status, 200, JSON.stringify(installed.body))
      activations.push(colony.rt.services.plugins.resolveInstallation(identityOf(alice), component, installed.body.id as string))
    }
  })
  after(async () => {
    for (const c of clients.splice(0)) await c.close()
    await colony.close()
  })

  const client = async (a: Account, name: string): Promise<Recorder> => {
    const c = await connect(colony.rt.urls.mqtt, { username: name, password: a.token })
    clients.push(c)
    return c
  }

  it('sends one QoS 1, not retained message per batch to each active OplogProcessor, and nothing for other kinds', async () => {
    const [processor, lib] = activations as [PluginActivation, PluginActivation]
    assert.equal(processor.kind, 'OplogProcessor')
    const watcher = await client(alice, 'processor-host')
    const qos: number[] = []
    watcher.client.on('message', (_topic, _payload, packet) => { qos.push(packet.qos) })
    const granted = await watcher.client.subscribeAsync([topics.pluginOplog(processor.pluginId), topics.pluginOplog(lib.pluginId)], { qos: 1 })
    assert.deepEqual(granted.map((g) => g.qos), [1, 1])

    const forwarder = colony.rt.services.plugins.forwarder
    assert.equal(forwarder.forward({ componentId: component, workerName: 'w1' }, activations, []), 0, 'an empty batch sends nothing')
    assert.equal(forwarder.forward({ componentId: component, workerName: 'w1' }, activations, entries), 1)
    assert.equal(forwarder.forward({ componentId: component, workerName: 'w1' }, activations, entries.slice(2)), 1)

    const first = await watcher.next((m) => m.topic === topics.pluginOplog(processor.pluginId), { what: 'the first batch' })
    const second = await watcher.next((m) => m.topic === topics.pluginOplog(processor.pluginId), { from: first.index + 1, what: 'the second batch' })
    assert.equal(typeof first.json.timestampMs, 'number')
    assert.deepEqual({ ...first.json, timestampMs: 0 }, {
      pluginId: processor.pluginId, installationId: processor.installationId, workerId: { componentId: component, workerName: 'w1' }, entries, timestampMs: 0,
    })
    assert.deepEqual(second.json.entries.map((e: ForwardedEntry) => e.oplogIndex), [3])
    assert.equal(first.retain, false)
    assert.deepEqual(qos.slice(0, 2), [1, 1])
    // Nothing went to the Library plugin's topic: both batches arrived, and only on the processor's feed.
    assert.deepEqual(watcher.on(topics.pluginOplog(lib.pluginId)), [])
  })

  it('only the plugin\'s team may subscribe (naming the plugin), and no client may publish on a feed', async () => {
    const [processor] = activations as [PluginActivation]
    const outsider = await client(bob, 'outsider')
    // mqtt.js rejects a SUBACK with any 0x80 grant.
    for (const filter of [topics.pluginOplog(processor.pluginId), 'plugins/#', 'plugins/+/oplog']) {
      await assert.rejects(outsider.client.subscribeAsync(filter, { qos: 1 }), /Subscribe error/, filter)
    }
    const member = await client(alice, 'member')
    assert.deepEqual((await member.client.subscribeAsync(topics.pluginOplog(processor.pluginId), { qos: 1 })).map((g) => g.qos), [1])
    // A wildcard at the plugin level would span teams, even for a member.
    await assert.rejects(member.client.subscribeAsync('plugins/+/oplog', { qos: 1 }), /Subscribe error/)

    const closed = new Promise<void>((resolve) => member.client.once('close', () => resolve()))
    member.client.publish(topics.pluginOplog(processor.pluginId), JSON.stringify({ forged: true }))
    await closed
  })
})
