import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import { Wash } from '../helpers/wash.js'
import { FIXTURES_DIR, adderTimes100, call, invokeOk } from '../helpers/components.js'

/**
 * The same flow with the seed's subjects and payloads (`host.get` scatter-gather of HostSummary, `host.{id}.inv`,
 * `max_instances`, `{accepted, error?}` acks, events on `wasmbus.ctl.v1.{lattice}.evt.{hostId}`), plus providers and
 * component updates.
 */
describe('NATS bridge: the seed\'s control interface', function () {
  this.timeout(30_000)
  let nats: NatsServer
  let colony: TestColony
  let wash: Wash
  let hostId: string
  let base: string
  let dir: string

  before(async () => {
    nats = await startNatsServer()
    colony = await startColony({ config: { nats: { url: nats.url, heartbeatIntervalMs: 200, labels: 'zone=lab,tier=edge' } } })
    base = colony.rt.urls.http
    // The seed's event channel: wasmbus.ctl.v1.{lattice}.evt.{hostId}.
    wash = await Wash.connect(nats.url, 'default', { eventSubject: 'wasmbus.ctl.v1.default.evt.*' })
    hostId = (await wash.event('host_heartbeat')).source
    dir = mkdtempSync(join(tmpdir(), 'colony-seed-'))
  })
  after(async () => {
    await wash?.close()
    await colony?.close()
    await nats?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('host.get: each host replies its HostSummary (and the CtlResponse around it)', async () => {
    const replies = await wash.gather('host.get', {}, 500)
    assert.equal(replies.length, 1)
    const summary = replies[0] as Record<string, any>
    assert.equal(summary.id, hostId)
    assert.equal(typeof summary.friendly_name, 'string')
    assert.equal(typeof summary.uptime_seconds, 'number')
    assert.match(summary.version, /^\d+\.\d+\.\d+/)
    assert.deepEqual({ zone: summary.labels.zone, tier: summary.labels.tier }, { zone: 'lab', tier: 'edge' })
    assert.equal(summary.accepted, true)
    assert.equal(summary.success, true)
    assert.equal(summary.response.id, hostId)
  })

  it('component.scale with max_instances, host.{id}.inv, and the events on the seed\'s channel', async () => {
    const ref = `file://${FIXTURES_DIR}adder.wasm`
    const from = wash.mark
    const ack = await wash.request(`component.scale.${hostId}`, { component_ref: ref, component_id: 'adder', max_instances: 2, annotations: {}, config: [] })
    assert.equal(ack.accepted, true)
    assert.equal(ack.error, undefined)
    const scaled = await wash.event('component_scaled', (e) => e.data.image_ref === ref, { from })
    assert.equal(scaled.subject, `wasmbus.ctl.v1.default.evt.${hostId}`)
    assert.equal(scaled.source, hostId)
    assert.equal(scaled.data.max_instances, 2)

    const inv = await wash.request(`host.${hostId}.inv`)
    assert.equal(inv.host_id, hostId)
    assert.deepEqual((inv.components as any[]).map((c) => [c.id, c.image_ref, c.max_instances]), [['adder', ref, 2]])
    assert.ok((inv.providers as any[]).some((p) => p.id === 'keyvalue-provider' && p.image_ref === 'builtin:keyvalue'))
    const adder = (await call('GET', `${base}/v1/envs/default/components/adder`)).body.componentId as string
    assert.equal(await invokeOk(base, adder, 'add', [2, 3]), 5)
  })

  it('component.update: a new file becomes a new revision and is served; component:<name>@0 pins the first again', async () => {
    const file = join(dir, 'adder-v2.wasm')
    writeFileSync(file, await adderTimes100())
    const ref = `file://${file}`
    let from = wash.mark
    const ack = await wash.request(`component.update.${hostId}`, { component_id: 'adder', new_component_ref: ref, host_id: hostId })
    assert.equal(ack.accepted, true)
    assert.match(ack.message, /^component adder updating from file:\/\/.*adder\.wasm to file:\/\/.*adder-v2\.wasm$/)
    await wash.event('component_scaled', (e) => e.data.image_ref === ref && e.data.max_instances === 2, { from })
    const adder = (await call('GET', `${base}/v1/envs/default/components/adder`)).body
    assert.equal(adder.componentVersion, 1)
    assert.equal(await invokeOk(base, adder.componentId, 'add', [2, 3]), 203)

    from = wash.mark
    await wash.request(`component.scale.${hostId}`, { component_ref: 'component:adder@0', component_id: 'adder', count: 2 })
    await wash.event('component_scaled', (e) => e.data.image_ref === 'component:adder@0', { from })
    assert.equal(await invokeOk(base, adder.componentId, 'add', [2, 3]), 5, 'the pinned first revision answers')

    const unknown = await wash.request(`component.update.${hostId}`, { component_id: 'nobody', new_component_ref: ref, host_id: hostId })
    assert.deepEqual({ accepted: unknown.accepted, error: unknown.error }, { accepted: false, error: 'component nobody not found' })
  })

  it('provider.start / provider.stop: a second keyvalue provider, linked, serving a counter, then stopped', async () => {
    let from = wash.mark
    const started = await wash.request(`provider.start.${hostId}`, { provider_id: 'kv-two', provider_ref: 'builtin:keyvalue', annotations: { team: 'a' }, config: [] })
    assert.deepEqual({ accepted: started.accepted, message: started.message }, { accepted: true, message: 'successfully started provider' })
    const event = await wash.event('provider_started', (e) => e.data.provider_id === 'kv-two', { from })
    assert.deepEqual({ ref: event.data.image_ref, host: event.data.host_id, a: event.data.annotations }, { ref: 'builtin:keyvalue', host: hostId, a: { team: 'a' } })
    const again = await wash.request(`provider.start.${hostId}`, { provider_id: 'kv-two', provider_ref: 'builtin:keyvalue' })
    assert.deepEqual({ accepted: again.accepted, error: again.error }, { accepted: false, error: 'provider with that ID is already running' })
    const inv = await wash.request(`host.${hostId}.inv`)
    assert.ok((inv.providers as any[]).some((p) => p.id === 'kv-two' && p.annotations.team === 'a'))

    // The seed's link shape, targeting the new provider; the counter counts through it.
    from = wash.mark
    const link = { source_id: 'counter', target: 'kv-two', name: 'default', wit_namespace: 'wasi', wit_package: 'keyvalue', interfaces: ['store'] }
    assert.equal((await wash.request('link.put', link)).accepted, true)
    await wash.event('linkdef_set', (e) => e.data.target === 'kv-two', { from })
    await wash.request(`component.scale.${hostId}`, { component_ref: `file://${FIXTURES_DIR}counter.wasm`, component_id: 'counter', max_instances: 1 })
    await wash.event('component_scaled', (e) => e.data.component_id === 'counter', { from })
    const counter = (await call('GET', `${base}/v1/envs/default/components/counter`)).body.componentId as string
    assert.equal(await invokeOk(base, counter, 'increment', []), 1)

    from = wash.mark
    const builtIn = await wash.request(`provider.stop.${hostId}`, { provider_id: 'keyvalue-provider' })
    assert.equal(builtIn.accepted, false)
    assert.match(builtIn.error as string, /built into this host/)
    const stopped = await wash.request(`provider.stop.${hostId}`, { provider_id: 'kv-two' })
    assert.equal(stopped.accepted, true)
    const gone = await wash.event('provider_stopped', (e) => e.data.provider_id === 'kv-two', { from })
    assert.equal(gone.data.reason, 'stop')
    const notRunning = await wash.request(`provider.stop.${hostId}`, { provider_id: 'kv-two' })
    assert.deepEqual({ accepted: notRunning.accepted, error: notRunning.error }, { accepted: false, error: 'provider with that ID is not running' })
    const failedFrom = wash.mark
    await wash.request(`provider.start.${hostId}`, { provider_id: 'redis', provider_ref: 'ghcr.io/wasmcloud/keyvalue-redis:0.28.1' })
    const failed = await wash.event('provider_start_failed', (e) => e.data.provider_id === 'redis', { from: failedFrom })
    assert.match(failed.data.error, /OCI pulls are not configured/)
  })

  it('link.del with the seed\'s DeleteLinkCommand: acknowledged, announced, gone', async () => {
    const from = wash.mark
    const ack = await wash.request('link.del', { source_id: 'counter', name: 'default', wit_namespace: 'wasi', wit_package: 'keyvalue' })
    assert.equal(ack.accepted, true)
    const deleted = await wash.event('linkdef_deleted', (e) => e.data.source_id === 'counter', { from })
    assert.deepEqual({ ns: deleted.data.wit_namespace, pkg: deleted.data.wit_package, target: deleted.data.target }, { ns: 'wasi', pkg: 'keyvalue', target: 'kv-two' })
    assert.deepEqual((await wash.request('link.get')).response, [])
  })

  it('link.put for a key that already links elsewhere fails with linkdef_set_failed; the first link stays', async () => {
    const link = { source_id: 'adder', target: 'logging-provider', wit_namespace: 'wasi', wit_package: 'logging', interfaces: ['logging'] }
    assert.equal((await wash.request('link.put', link)).accepted, true)
    const from = wash.mark
    const conflict = await wash.request('link.put', { ...link, target: 'messaging-provider' })
    assert.equal(conflict.accepted, false)
    assert.match(conflict.error as string, /already exists with a different target \(logging-provider\)/)
    const failed = await wash.event('linkdef_set_failed', (e) => e.data.source_id === 'adder', { from })
    assert.equal(failed.data.target, 'messaging-provider')
    assert.match(failed.data.error, /different target/)
    const links = (await wash.request('link.get')).response as Array<{ target: string }>
    assert.deepEqual(links.map((l) => l.target), ['logging-provider'])
    // The same link again is no conflict (idempotent put).
    assert.equal((await wash.request('link.put', link)).accepted, true)
  })
})
