import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import { Wash } from '../helpers/wash.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { FIXTURES_DIR, call, invokeOk } from '../helpers/components.js'

/**
 * The control interface driven the way wash 1.x drives a wasmCloud host: `count` in scale commands, scatter-gather
 * on `host.ping`, and completion judged by events whose `source` is the host and whose `image_ref` is the reference.
 */
describe('NATS bridge: a wash-style client', function () {
  this.timeout(30_000)
  let nats: NatsServer
  let colony: TestColony
  let wash: Wash
  let hostId: string
  let base: string

  before(async () => {
    nats = await startNatsServer()
    colony = await startColony({ config: { nats: { url: nats.url, heartbeatIntervalMs: 200 } } })
    base = colony.rt.urls.http
    wash = await Wash.connect(nats.url)
    // The host announces itself; its first heartbeat after our subscription proves both directions work.
    const started = await wash.event('host_heartbeat')
    hostId = started.source
  })
  after(async () => {
    await wash?.close()
    await colony?.close()
    await nats?.stop()
  })

  it('host.ping: every host answers once with a wasmCloud Host, its id a 56-character N... nkey', async () => {
    const replies = await wash.gather('host.ping', '', 500)
    assert.equal(replies.length, 1)
    const [reply] = replies
    assert.equal(reply?.success, true)
    const host = reply?.response
    assert.match(host.id, /^N[A-Z2-7]{55}$/)
    assert.equal(host.id, hostId)
    assert.equal(host.lattice, 'default')
    assert.match(host.version, /^\d+\.\d+\.\d+/)
    assert.equal(typeof host.uptime_seconds, 'number')
    assert.equal(typeof host.uptime_human, 'string')
    assert.equal(host.labels['hostcore.os'], 'linux')
    assert.equal(host.labels['hostcore.osfamily'], 'unix')
    assert.ok(host.labels['hostcore.arch'])
    // The host id is kept in the data dir: the same Colony is the same host after a restart (see the CLI test).
    assert.match(host.friendly_name, /^colony-/)
    const metrics = await (await fetch(`${base}/metrics`)).text()
    assert.match(metrics, /^colony_nats_connected 1$/m)
    assert.match(metrics, /^colony_nats_requests_total [1-9]\d*$/m)
    assert.match(metrics, /^colony_nats_events_total [1-9]\d*$/m)
  })

  it('scale (count) -> component_scaled; link to keyvalue; invoke; scale to 0 -> component_scaled with 0', async () => {
    const ref = `file://${FIXTURES_DIR}counter.wasm`
    let from = wash.mark
    const ack = await wash.request(`component.scale.${hostId}`, { component_ref: ref, component_id: 'counter', count: 2, host_id: hostId, annotations: { app: 'demo' }, config: [], allow_update: false })
    assert.deepEqual({ success: ack.success, message: ack.message }, { success: true, message: '' })
    const scaled = await wash.event('component_scaled', (e) => e.source === hostId && e.data.image_ref === ref, { from })
    assert.equal(scaled.specversion, '1.0')
    assert.equal(scaled.datacontenttype, 'application/json')
    assert.ok(!Number.isNaN(Date.parse(scaled.time)))
    assert.deepEqual({ id: scaled.data.component_id, n: scaled.data.max_instances, host: scaled.data.host_id, a: scaled.data.annotations },
      { id: 'counter', n: 2, host: hostId, a: { app: 'demo' } })

    // The inventory lists it under the operator's id; the registry holds it under that name (Golem's API).
    const inventory = await wash.request(`host.get.${hostId}`)
    assert.equal(inventory.success, true)
    const listed = inventory.response.components.find((c: { id: string }) => c.id === 'counter')
    assert.deepEqual({ ref: listed.image_ref, n: listed.max_instances, name: listed.name, a: listed.annotations }, { ref, n: 2, name: 'counter', a: { app: 'demo' } })
    assert.ok(inventory.response.providers.some((p: { id: string }) => p.id === 'keyvalue-provider'))
    const registered = await call('GET', `${base}/v1/envs/default/components/counter`)
    assert.equal(registered.status, 200, JSON.stringify(registered.body))
    const componentId = registered.body.componentId as string

    // Linked by its lattice id, the counter's keyvalue import is served by the keyvalue provider.
    from = wash.mark
    const link = { source_id: 'counter', target: 'keyvalue-provider', name: 'default', wit_namespace: 'wasi', wit_package: 'keyvalue', interfaces: ['store'], source_config: [], target_config: [] }
    const put = await wash.request('link.put', link)
    assert.deepEqual({ success: put.success, message: put.message }, { success: true, message: 'successfully set link' })
    const set = await wash.event('linkdef_set', (e) => e.source === hostId, { from })
    assert.deepEqual(set.data, link)
    assert.deepEqual((await wash.request('link.get')).response, [link])

    assert.equal(await invokeOk(base, componentId, 'increment', []), 1)
    assert.equal(await invokeOk(base, componentId, 'increment', []), 2)

    from = wash.mark
    const zero = await wash.request(`component.scale.${hostId}`, { component_ref: ref, component_id: 'counter', count: 0, host_id: hostId })
    assert.equal(zero.success, true)
    const stopped = await wash.event('component_scaled', (e) => e.source === hostId && e.data.image_ref === ref && e.data.max_instances === 0, { from })
    assert.equal(stopped.data.component_id, 'counter')
    assert.equal(colony.rt.system.get(componentId), undefined, 'scale to 0 stops the actor')
    assert.deepEqual((await wash.request(`host.get.${hostId}`)).response.components, [])

    // The count lives in the keyvalue provider: scaled up again, it goes on.
    from = wash.mark
    await wash.request(`component.scale.${hostId}`, { component_ref: ref, component_id: 'counter', count: 1, host_id: hostId })
    await wash.event('component_scaled', (e) => e.source === hostId && e.data.image_ref === ref && e.data.max_instances === 1, { from })
    assert.equal(await invokeOk(base, componentId, 'increment', []), 3)
  })

  it('component:<name>@<version> pins a revision; an OCI reference fails with component_scale_failed', async () => {
    const ref = `file://${FIXTURES_DIR}adder.wasm`
    let from = wash.mark
    await wash.request(`component.scale.${hostId}`, { component_ref: ref, component_id: 'adder', count: 1 })
    await wash.event('component_scaled', (e) => e.data.image_ref === ref, { from })

    // One registry component runs as one component here: a second lattice id for it is refused.
    from = wash.mark
    const pinned = 'component:adder@0'
    await wash.request(`component.scale.${hostId}`, { component_ref: pinned, component_id: 'adder-twice', count: 1 })
    const twice = await wash.event('component_scale_failed', (e) => e.data.component_id === 'adder-twice', { from })
    assert.match(twice.data.error, /already runs on this host as component adder/)

    from = wash.mark
    await wash.request(`component.scale.${hostId}`, { component_ref: pinned, component_id: 'adder', count: 2 })
    const ok = await wash.event('component_scaled', (e) => e.data.image_ref === pinned, { from })
    assert.deepEqual({ id: ok.data.component_id, n: ok.data.max_instances }, { id: 'adder', n: 2 })
    const listed = (await wash.request(`host.get.${hostId}`)).response.components.find((c: { id: string }) => c.id === 'adder')
    assert.deepEqual({ ref: listed.image_ref, revision: listed.revision }, { ref: pinned, revision: 0 })

    from = wash.mark
    const missing = 'component:adder@7'
    await wash.request(`component.scale.${hostId}`, { component_ref: missing, component_id: 'adder-7', count: 1 })
    const noRevision = await wash.event('component_scale_failed', (e) => e.data.image_ref === missing, { from })
    assert.match(noRevision.data.error, /no revision 7/)

    from = wash.mark
    const oci = 'ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0'
    const ack = await wash.request(`component.scale.${hostId}`, { component_ref: oci, component_id: 'hello', count: 1 })
    assert.equal(ack.success, true, 'the command is accepted; the outcome is an event, as on a real host')
    const failed = await wash.event('component_scale_failed', (e) => e.source === hostId && e.data.image_ref === oci, { from })
    assert.match(failed.data.error, /OCI pulls are not configured/)
    assert.equal(failed.data.component_id, 'hello')
    assert.equal(failed.data.max_instances, 1)
  })

  it('labels, configs, claims and auctions; every command is shown on MQTT system/lattice/ctl (config values are not)', async () => {
    const mqtt: Recorder = await connect(colony.rt.urls.mqtt)
    try {
      await mqtt.subscribe('system/lattice/#')
      let from = wash.mark
      assert.equal((await wash.request(`label.put.${hostId}`, { key: 'zone', value: 'lab' })).message, 'successfully put label')
      const changed = await wash.event('labels_changed', (e) => e.data.labels.zone === 'lab', { from })
      assert.equal(changed.data.host_id, hostId)
      const shown = await mqtt.next((m) => m.topic === 'system/lattice/ctl' && m.json?.operation === 'label.put', { what: 'label.put on MQTT' })
      assert.deepEqual({ host: shown.json.hostId, request: shown.json.request, success: shown.json.success }, { host: hostId, request: { key: 'zone', value: 'lab' }, success: true })
      const refused = await wash.request(`label.put.${hostId}`, { key: 'hostcore.os', value: 'plan9' })
      assert.equal(refused.success, false)

      // Auctions: only hosts whose labels satisfy every constraint offer.
      assert.equal((await wash.gather('component.auction', { component_ref: 'component:adder', component_id: 'new-one', constraints: { zone: 'lab' } }, 300)).length, 1)
      assert.equal((await wash.gather('component.auction', { component_ref: 'component:adder', component_id: 'new-one', constraints: { zone: 'moon' } }, 300)).length, 0)
      const offer = (await wash.gather('provider.auction', { provider_ref: 'builtin:keyvalue', provider_id: 'kv-x', constraints: {} }, 300))[0]
      assert.deepEqual(offer?.response, { provider_ref: 'builtin:keyvalue', provider_id: 'kv-x', host_id: hostId, constraints: {} })
      assert.equal((await wash.request(`label.del.${hostId}`, { key: 'zone' })).message, 'successfully deleted label')

      from = wash.mark
      assert.equal((await wash.request('config.put.app-settings', { greeting: 'hej', secret: 'swordfish' })).message, 'successfully put config')
      const set = await wash.event('config_set', (e) => e.data.config_name === 'app-settings', { from })
      assert.deepEqual(set.data.entries, { greeting: 'hej', secret: 'swordfish' }, 'NATS hosts replicate the values')
      assert.deepEqual((await wash.request('config.get.app-settings')).response, { greeting: 'hej', secret: 'swordfish' })
      const ctl = await mqtt.next((m) => m.topic === 'system/lattice/ctl' && m.json?.operation === 'config.put', { what: 'config.put on MQTT' })
      assert.deepEqual(ctl.json.request, { keys: ['greeting', 'secret'] })
      const mirrored = await mqtt.next((m) => m.topic === 'system/lattice/events/config_set', { what: 'the config_set mirror' })
      assert.equal(mirrored.json.data.entries, undefined)
      assert.ok(!mqtt.received.some((m) => m.payload.toString().includes('swordfish')), 'a config value never reaches MQTT')
      assert.equal((await wash.request('config.del.app-settings')).message, 'successfully deleted config')
      await wash.event('config_deleted', (e) => e.data.config_name === 'app-settings', { from })
      assert.deepEqual(await wash.request('config.get.app-settings'), { success: true, message: 'Configuration not found', accepted: true })

      const claims = await wash.request('claims.get')
      assert.ok((claims.response as Array<{ name: string }>).some((c) => c.name === 'counter'))
    } finally {
      await mqtt.close()
    }
  })

  it('a scale from REST or chat is a lattice event too, and so is every actor lifecycle change', async () => {
    const mqtt: Recorder = await connect(colony.rt.urls.mqtt)
    try {
      await mqtt.subscribe('system/lattice/#')
      const registered = await call('GET', `${base}/v1/envs/default/components/adder`)
      const id = registered.body.componentId as string
      let from = wash.mark
      const scaled = await call('POST', `${base}/v1/components/${id}/scale`, { instances: 3 })
      assert.equal(scaled.status, 200, JSON.stringify(scaled.body))
      const event = await wash.event('component_scaled', (e) => e.data.max_instances === 3, { from })
      assert.equal(event.data.component_id, 'adder', 'the id it was scaled under over NATS')
      const mirrored = await mqtt.next((m) => m.topic === 'system/lattice/events/component_scaled' && m.json?.data?.max_instances === 3, { what: 'the MQTT mirror of the event' })
      assert.equal(mirrored.json.id, event.id)
      from = wash.mark
      const chat = await call('POST', `${base}/api/chat`, { to: 'main-actor', content: 'scale adder 1' })
      assert.equal(chat.status, 202, JSON.stringify(chat.body))
      const byChat = await wash.event('component_scaled', (e) => e.data.max_instances === 1, { from })
      assert.equal(byChat.data.component_id, 'adder')

      from = wash.mark
      const spawned = await call('POST', `${base}/api/actors`, { kind: 'echo', name: 'lifecycle-echo' })
      assert.equal(spawned.status, 201, JSON.stringify(spawned.body))
      await wash.event('actor_state_changed', (e) => e.data.name === 'lifecycle-echo' && e.data.state === 'running', { from })
      assert.equal((await call('DELETE', `${base}/api/actors/lifecycle-echo`)).status, 200)
      const deleted = await wash.event('actor_state_changed', (e) => e.data.name === 'lifecycle-echo' && e.data.state === 'deleted', { from })
      assert.equal(deleted.data.agent_type, 'echo')
    } finally {
      await mqtt.close()
    }
  })
})

describe('NATS bridge: a restarted host runs what the lattice scaled on it', function () {
  this.timeout(30_000)
  let nats: NatsServer
  let wash: Wash
  let dir: string
  let colony: TestColony | undefined

  before(async () => {
    nats = await startNatsServer()
    wash = await Wash.connect(nats.url)
    dir = mkdtempSync(join(tmpdir(), 'colony-nats-restore-'))
  })
  after(async () => {
    await colony?.close()
    await wash?.close()
    await nats?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const start = async (): Promise<TestColony> => {
    colony = await startColony({ config: { data: { dir }, nats: { url: nats.url, heartbeatIntervalMs: 200 } } })
    return colony
  }

  it('the component comes back under its lattice id with its reference, count, annotations and links; so do started providers', async () => {
    const ref = `file://${FIXTURES_DIR}counter.wasm`
    let from = wash.mark
    let c = await start()
    const hostId = (await wash.event('host_started', () => true, { from })).source
    // A provider started over NATS serves the component's link; another one is started and stopped again.
    from = wash.mark
    for (const id of ['kv-extra', 'kv-gone']) {
      assert.equal((await wash.request(`provider.start.${hostId}`, { provider_ref: 'builtin:keyvalue', provider_id: id, annotations: { tier: 'gold' } })).success, true)
      await wash.event('provider_started', (e) => e.data.provider_id === id, { from })
    }
    assert.equal((await wash.request(`provider.stop.${hostId}`, { provider_id: 'kv-gone' })).success, true)
    await wash.event('provider_stopped', (e) => e.data.provider_id === 'kv-gone', { from })
    from = wash.mark
    await wash.request(`component.scale.${hostId}`, { component_ref: ref, component_id: 'counter-l', count: 2, annotations: { app: 'demo' } })
    await wash.event('component_scaled', (e) => e.data.component_id === 'counter-l' && e.data.max_instances === 2, { from })
    const link = { source_id: 'counter-l', target: 'kv-extra', name: 'default', wit_namespace: 'wasi', wit_package: 'keyvalue', interfaces: ['store'], source_config: [], target_config: [] }
    assert.equal((await wash.request('link.put', link)).success, true)
    const componentId = (await call('GET', `${c.rt.urls.http}/v1/envs/default/components/counter-l`)).body.componentId as string
    assert.equal(await invokeOk(c.rt.urls.http, componentId, 'increment', []), 1)
    await c.close()

    from = wash.mark
    c = await start()
    assert.equal((await wash.event('host_started', () => true, { from })).source, hostId, 'the same host')
    // What it restored before it joined is announced right after host_started, as any scale or start.
    const restored = await wash.event('component_scaled', (e) => e.source === hostId && e.data.component_id === 'counter-l', { from })
    assert.deepEqual({ ref: restored.data.image_ref, n: restored.data.max_instances, a: restored.data.annotations }, { ref, n: 2, a: { app: 'demo' } })
    const inventory = await wash.request(`host.get.${hostId}`)
    const listed = inventory.response.components.find((x: { id: string }) => x.id === 'counter-l')
    assert.deepEqual({ ref: listed?.image_ref, n: listed?.max_instances, a: listed?.annotations }, { ref, n: 2, a: { app: 'demo' } })
    const provider = inventory.response.providers.find((p: { id: string }) => p.id === 'kv-extra')
    assert.deepEqual({ ref: provider?.image_ref, a: provider?.annotations }, { ref: 'builtin:keyvalue', a: { tier: 'gold' } })
    assert.equal(c.rt.system.get('kv-extra')?.state, 'running')
    assert.equal(c.rt.system.get('kv-gone'), undefined, 'a stopped provider stays stopped')
    assert.equal(c.rt.system.get(componentId)?.state, 'running')
    assert.equal(await invokeOk(c.rt.urls.http, componentId, 'increment', []), 2, 'the link by lattice id serves its import again')
    assert.deepEqual((await wash.request('link.get')).response, [link])
  })
})
