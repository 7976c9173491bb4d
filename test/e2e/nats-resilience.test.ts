import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, connect as connectTcp, type AddressInfo, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createUser } from '@nats-io/nkeys'
import { connect as connectNats, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node'
import { get } from '../helpers/http.js'
import { connect as connectMqtt, type Recorder } from '../helpers/mqtt.js'
import { killAllNats, startNatsServer, type NatsServer } from '../helpers/nats-server.js'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { create, fixture, scale } from '../helpers/components.js'
import { Wash, type CtlReply } from '../helpers/wash.js'

const ADDER = `file://${fileURLToPath(new URL('../../../fixtures/components/', import.meta.url))}adder.wasm`
const QUICK = { reconnectMaxMs: 500, heartbeatIntervalMs: 200 }
const ALERT = 'agents/nats-bridge/alert'

/** A promise awaited later: if its test fails first, its rejection is not blamed on the next test as unhandled. */
function later<T> (p: Promise<T>): Promise<T> {
  void p.catch(() => undefined)
  return p
}

/**
 * A port from the OS held by a listener that accepts and never answers, as a NATS host that is down. The bridge's
 * connection attempt waits on it, so the test can subscribe to the alerts first and then decide how the attempt
 * ends: dropped (NATS unreachable), or handed to a nats-server started on the same port once the listener is gone.
 */
class SilentPort {
  readonly held: Socket[] = []
  private constructor (private readonly server: Server, readonly port: number) {
    server.on('connection', (socket) => {
      socket.on('error', () => socket.destroy())
      this.held.push(socket)
    })
  }

  static async open (): Promise<SilentPort> {
    const server = createServer().listen(0, '127.0.0.1')
    await once(server, 'listening')
    return new SilentPort(server, (server.address() as AddressInfo).port)
  }

  get url (): string {
    return `nats://127.0.0.1:${this.port}`
  }

  /** The next connection attempt; ask before it can arrive. */
  nextAttempt (): Promise<Socket> {
    return later(once(this.server, 'connection', { signal: AbortSignal.timeout(10_000) }).then(([socket]) => socket as Socket))
  }

  /** Nothing listens any more (held attempts stay open): a nats-server may take the port. */
  stopListening (): void {
    this.server.close()
  }

  /** Hands a held attempt to what listens on the port now; the client cannot tell (the server speaks first). */
  forward (socket: Socket): void {
    const upstream = connectTcp(this.port, '127.0.0.1')
    upstream.on('error', () => socket.destroy())
    this.held.push(upstream)
    socket.pipe(upstream).pipe(socket)
  }

  close (): void {
    this.server.close()
    for (const s of this.held) s.destroy()
  }
}

/** What a describe or test opened, closed last-opened first, each whatever the others did; the first failure is rethrown. */
class Opened {
  private readonly closers: Array<() => unknown> = []
  add<T> (thing: T, close: (t: T) => unknown): T {
    this.closers.push(() => close(thing))
    return thing
  }

  async close (): Promise<void> {
    const errors: unknown[] = []
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close()
      } catch (err) {
        errors.push(err)
      }
    }
    if (errors.length > 0) throw errors[0]
  }
}

const closeWash = (w: Wash): Promise<void> | undefined => (w.nc.isClosed() ? undefined : w.close())

async function ask (nc: NatsConnection, subject: string, body: unknown = ''): Promise<CtlReply> {
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)
  return JSON.parse((await nc.request(subject, payload, { timeout: 2000 })).string()) as CtlReply
}

/** The first message on `subject` from the moment of the call, parsed. */
function first (nc: NatsConnection, subject: string): Promise<any> {
  const sub = nc.subscribe(subject, { max: 1, timeout: 10_000 })
  return later((async () => {
    for await (const m of sub) return m.json()
    throw new Error(`no message on ${subject}`)
  })())
}

async function assertHealthy (colony: TestColony): Promise<void> {
  const health = await get(`${colony.rt.urls.http}/api/health`)
  assert.equal(health.status, 200, JSON.stringify(health.body))
  assert.equal(health.body.status, 'ok')
  const actors = (await get(`${colony.rt.urls.http}/api/actors`)).body as Array<{ name: string, state: string, restarts: number }>
  assert.deepEqual(actors.filter((a) => a.state !== 'running').map((a) => `${a.name}: ${a.state}`), [])
  assert.equal(actors.find((a) => a.name === 'nats-bridge')?.restarts, 0, 'the bridge never crashed')
}

after(() => killAllNats())

describe('NATS bridge: NATS down at start, then killed and restarted', function () {
  this.timeout(30_000)
  const opened = new Opened()
  let gate: SilentPort
  let colony: TestColony
  let mqtt: Recorder
  let nats: NatsServer
  let wash: Wash
  let hostId: string
  after(() => opened.close())

  it('starts while NATS does not answer, alerts nats_unreachable, and joins once a server listens on the port', async () => {
    gate = opened.add(await SilentPort.open(), (g) => g.close())
    const firstAttempt = gate.nextAttempt()
    colony = opened.add(await startColony({ config: { nats: { url: gate.url, ...QUICK } } }), (c) => c.close())
    await assertHealthy(colony)
    mqtt = opened.add(await connectMqtt(colony.rt.urls.mqtt), (m) => m.close())
    await mqtt.subscribe(ALERT)

    const secondAttempt = gate.nextAttempt()
    ;(await firstAttempt).destroy()
    const down = await mqtt.next((m) => m.topic === ALERT && m.json?.code === 'nats_unreachable', { what: 'nats_unreachable' })
    assert.equal(down.json.severity, 'warning')
    assert.match(down.json.message, new RegExp(`NATS at ${gate.url} is unreachable`))
    await assertHealthy(colony)
    // Scaled while the host has never joined: its component_scaled is held and follows host_started.
    const offline = await create(colony.rt.urls.http, 'scaled-offline', await fixture('adder'))
    assert.equal((await scale(colony.rt.urls.http, offline, 1)).status, 200)

    // The bridge tries again with backoff; while that attempt hangs, a real server takes the port and wash listens.
    const retry = await secondAttempt
    gate.stopListening()
    nats = opened.add(await startNatsServer({ port: gate.port }), (n) => n.stop())
    wash = opened.add(await Wash.connect(nats.url), closeWash)
    retry.destroy()
    const up = await mqtt.next((m) => m.topic === ALERT && m.json?.code === 'nats_connected', { what: 'nats_connected' })
    assert.equal(up.json.severity, 'info')
    const started = await wash.event('host_started')
    hostId = started.source
    const held = await wash.event('component_scaled', (e) => e.source === hostId && e.data.component_id === offline, { from: started.index })
    assert.ok(held.index > started.index, 'after host_started')
    assert.equal((await scale(colony.rt.urls.http, offline, 0)).status, 200)
    assert.match(hostId, /^N[A-Z2-7]{55}$/)
    await wash.event('host_heartbeat', (e) => e.source === hostId)
    const ping = await wash.request('host.ping')
    assert.deepEqual({ success: ping.success, id: ping.response.id }, { success: true, id: hostId })
    assert.equal(mqtt.on(ALERT).filter((m) => m.json?.code === 'nats_unreachable').length, 1, 'one alert for the whole outage')
  })

  it('survives a nats-server crash: nats_disconnected, nats_connected, and its subscriptions answer after the restart', async () => {
    await wash.close()
    const from = mqtt.mark
    await nats.kill()
    await mqtt.next((m) => m.topic === ALERT && m.json?.code === 'nats_disconnected', { from, what: 'nats_disconnected' })
    await nats.stop()
    await assertHealthy(colony)

    nats = opened.add(await startNatsServer({ port: gate.port }), (n) => n.stop())
    await mqtt.next((m) => m.topic === ALERT && m.json?.code === 'nats_connected', { from, what: 'nats_connected' })
    wash = opened.add(await Wash.connect(nats.url), closeWash)
    await wash.event('host_heartbeat', (e) => e.source === hostId)

    const ping = await wash.request('host.ping')
    assert.deepEqual({ success: ping.success, id: ping.response.id }, { success: true, id: hostId })
    const mark = wash.mark
    const ack = await wash.request(`component.scale.${hostId}`, { component_ref: ADDER, component_id: 'adder', count: 1 })
    assert.equal(ack.success, true, ack.message)
    const scaled = await wash.event('component_scaled', (e) => e.source === hostId && e.data.image_ref === ADDER, { from: mark })
    assert.equal(scaled.data.max_instances, 1)
    const inventory = await wash.request(`host.get.${hostId}`)
    assert.deepEqual(inventory.response.components.map((c: { id: string }) => c.id), ['adder'])
    // The client restored the subscriptions itself: the bridge joined the lattice once, not again after the crash.
    assert.equal(colony.logs.filter((l) => l.msg === 'joined the lattice').length, 1)
    await assertHealthy(colony)
  })
})

describe('NATS bridge: authentication', function () {
  this.timeout(30_000)
  const nkey = createUser()
  const seed = new TextDecoder().decode(nkey.getSeed())
  const opened = new Opened()
  afterEach(() => opened.close())

  const methods: Array<{ name: string, conf: string, nats: Record<string, string>, client: Partial<ConnectionOptions>, url?: (url: string) => string }> = [
    { name: 'a user and password', conf: 'authorization { user: "colony", password: "s3cret" }', nats: { user: 'colony', password: 's3cret' }, client: { user: 'colony', pass: 's3cret' } },
    {
      name: 'a user and password given in the URL',
      conf: 'authorization { user: "colony", password: "s3cret" }',
      nats: {},
      client: { user: 'colony', pass: 's3cret' },
      url: (url) => url.replace('nats://', 'nats://colony:s3cret@'),
    },
    { name: 'a token', conf: 'authorization { token: "t0ken-for-colony" }', nats: { token: 't0ken-for-colony' }, client: { token: 't0ken-for-colony' } },
    {
      name: 'an nkey',
      conf: `authorization { users = [ { nkey: "${nkey.getPublicKey()}" } ] }`,
      nats: { nkeySeed: seed },
      client: { authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)) },
    },
  ]
  for (const method of methods) {
    it(`joins a lattice whose server requires ${method.name}, and answers host.ping`, async () => {
      const server = opened.add(await startNatsServer({ conf: method.conf }), (n) => n.stop())
      await assert.rejects(connectNats({ servers: server.url }), /Authorization Violation/, 'the server refuses anonymous clients')
      const client = opened.add(await connectNats({ servers: server.url, ...method.client }), (nc) => nc.close())
      const beat = first(client, 'wasmbus.evt.default.host_heartbeat')
      const colony = opened.add(await startColony({ config: { nats: { url: method.url?.(server.url) ?? server.url, ...QUICK, ...method.nats } } }), (c) => c.close())
      const hostId = (await beat).source as string
      const ping = await ask(client, 'wasmbus.ctl.v1.default.host.ping')
      assert.deepEqual({ success: ping.success, id: ping.response.id }, { success: true, id: hostId })
      assert.deepEqual(colony.logs.filter((l) => l.code === 'nats_unreachable'), [], 'connected at the first attempt')
    })
  }

  const WRONG = 'not-the-s3cret'
  const wrong: Array<[string, (url: string) => Record<string, string>]> = [
    ['nats.user and nats.password', (url) => ({ url, user: 'colony', password: WRONG })],
    ['the URL', (url) => ({ url: url.replace('nats://', `nats://colony:${WRONG}@`) })],
  ]
  for (const [where, settings] of wrong) {
    it(`with a wrong password in ${where}: runs on, alerts nats_unreachable (authorization), never shows the password`, async () => {
      const gate = opened.add(await SilentPort.open(), (g) => g.close())
      const attempt = gate.nextAttempt()
      const colony = opened.add(await startColony({ config: { nats: { ...settings(gate.url), ...QUICK } } }), (c) => c.close())
      const mqtt = opened.add(await connectMqtt(colony.rt.urls.mqtt), (m) => m.close())
      await mqtt.subscribe(ALERT)
      // The bridge's first attempt reaches the real server once the alert watcher listens.
      const held = await attempt
      gate.stopListening()
      opened.add(await startNatsServer({ port: gate.port, conf: 'authorization { user: "colony", password: "s3cret" }' }), (n) => n.stop())
      gate.forward(held)
      const alert = await mqtt.next((m) => m.topic === ALERT && m.json?.code === 'nats_unreachable', { what: 'nats_unreachable' })
      assert.match(alert.json.message, /authorization/i)
      await assertHealthy(colony)
      assert.ok(!alert.payload.toString().includes(WRONG), `the MQTT alert shows the password: ${alert.json.message}`)
      const leaks = colony.logs.filter((l) => JSON.stringify(l).includes(WRONG)).map((l) => l.msg)
      assert.deepEqual(leaks, [], 'no log line shows the password')
    })
  }
})

describe('NATS bridge: bad control requests', function () {
  this.timeout(30_000)
  const opened = new Opened()
  let colony: TestColony
  let wash: Wash
  let hostId: string
  before(async () => {
    const nats = opened.add(await startNatsServer(), (n) => n.stop())
    colony = opened.add(await startColony({ config: { nats: { url: nats.url, ...QUICK } } }), (c) => c.close())
    wash = opened.add(await Wash.connect(nats.url), closeWash)
    hostId = (await wash.event('host_heartbeat')).source
  })
  after(() => opened.close())

  const LINK = { source_id: 'adder', target: 'keyvalue-provider', name: 'default', wit_namespace: 'wasi', wit_package: 'keyvalue', interfaces: ['store'] }
  const SCALE = { component_ref: ADDER, component_id: 'adder', count: 1 }
  // [subject after the prefix ({host}: this host's id), body (strings and bytes go as they are), what the reply says]
  const BAD: Array<[string, unknown, RegExp]> = [
    ['component.scale.{host}', 'scale adder please', /not valid JSON/],
    ['component.scale.{host}', new Uint8Array([0xff, 0xfe, 0x7b]), /not valid JSON/],
    ['component.scale.{host}', [SCALE], /must be a JSON object/],
    ['config.put.deep', `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, /nests deeper than 256 levels/],
    ['component.scale.{host}', { component_id: 'adder', count: 1 }, /component_ref is required/],
    ['component.scale.{host}', { ...SCALE, component_ref: 42 }, /component_ref must be a string/],
    ['component.scale.{host}', { ...SCALE, count: '2' }, /count must be an integer/],
    ['component.scale.{host}', { ...SCALE, count: 1.5 }, /count must be an integer/],
    ['component.scale.{host}', { ...SCALE, count: -1 }, /count must not be negative/],
    ['component.scale.{host}', { ...SCALE, count: 5000 }, /count may be at most 1024/],
    ['component.scale.{host}', { component_ref: ADDER, component_id: 'adder', max_instances: 1025 }, /max_instances may be at most 1024/],
    ['component.scale.{host}', { ...SCALE, component_id: 'add er!' }, /component_id "add er!" has characters that are not allowed/],
    ['component.update.{host}', { new_component_ref: ADDER }, /component_id is required/],
    ['component.update.{host}', { component_id: 'adder', new_component_ref: 7 }, /new_component_ref must be a string/],
    ['provider.start.{host}', { provider_id: 'kv/2', provider_ref: 'builtin:keyvalue' }, /provider_id must be 1 to 64 characters/],
    ['provider.start.{host}', { provider_id: 'kv2' }, /provider_ref is required/],
    ['provider.start.{host}', { provider_id: 'kv2', provider_ref: 'builtin:keyvalue', annotations: ['a'] }, /annotations must be an object/],
    ['provider.start.{host}', { provider_id: 'kv2', provider_ref: 'builtin:keyvalue', config: 'a' }, /config must be a list/],
    ['provider.stop.{host}', {}, /provider_id is required/],
    ['provider.stop.{host}', { provider_id: 'keyvalue provider' }, /provider_id must be 1 to 64 characters/],
    ['link.put', '[]', /must be a JSON object/],
    ['link.put', { ...LINK, source_id: undefined }, /source_id must be 1 to 128 characters/],
    ['link.put', { ...LINK, target: 'key value' }, /target must be 1 to 128 characters/],
    ['link.put', { ...LINK, interfaces: [] }, /interfaces must be a list of names \(at least one\)/],
    ['link.del', { wit_namespace: 'wasi', wit_package: 'keyvalue' }, /source_id is required/],
    ['link.del', { source_id: ['adder'], wit_namespace: 'wasi', wit_package: 'keyvalue' }, /source_id must be a string/],
    ['config.put.app', { level: 3 }, /config value "level" must be a string/],
    ['config.put.app', '"level=3"', /must be a JSON object/],
    ['config.put.bad$name', { level: '3' }, /config name/],
    ['label.put.{host}', { key: 'hostcore.os', value: 'plan9' }, /hostcore\.\* labels .* cannot be changed/],
    ['label.put.{host}', { key: 'zone name', value: 'eu' }, /key "zone name" has characters that are not allowed/],
    ['label.put.{host}', { value: 'eu' }, /key is required/],
    ['label.del.{host}', { key: 'hostcore.arch' }, /hostcore\.\* labels .* cannot be changed/],
    ['host.stop.{host}', { timeout: -5 }, /timeout must be a number/],
    ['host.stop.{host}', { timeout: 'soon' }, /timeout must be a number/],
  ]

  it('refuses each with success:false / accepted:false and a message naming the problem, logs a warning, changes nothing', async () => {
    const before = await wash.request(`host.get.${hostId}`)
    const links = (await wash.request('link.get')).response
    const from = wash.mark
    for (const [tail, body, expected] of BAD) {
      const subject = `${wash.prefix}.${tail.replace('{host}', hostId)}`
      const what = `${tail} ${body instanceof Uint8Array ? 'bytes' : JSON.stringify(body).slice(0, 200)}`
      const reply = await ask(wash.nc, subject, body)
      assert.deepEqual({ success: reply.success, accepted: reply.accepted, error: reply.error }, { success: false, accepted: false, error: reply.message }, what)
      assert.match(reply.message, expected, what)
      assert.ok(colony.logs.some((l) => l.level === 40 && l.msg === 'NATS control request refused' && l.subject === subject && l.error === reply.message),
        `no warning logged for ${what}`)
    }
    // A heartbeat after the last refusal: any work a refusal had let through would have started by now.
    await wash.event('host_heartbeat', (e) => e.source === hostId, { from: wash.mark })
    const after = await wash.request(`host.get.${hostId}`)
    assert.deepEqual({ ...after.response, uptime_seconds: 0, uptime_human: '' }, { ...before.response, uptime_seconds: 0, uptime_human: '' })
    assert.deepEqual((await wash.request('link.get')).response, links)
    assert.equal((await wash.request('config.get.app')).message, 'Configuration not found')
    const changes = wash.events.slice(from).map((e) => e.type.split('.').pop()).filter((t) => t !== 'host_heartbeat')
    assert.deepEqual(changes, [], 'no lattice event follows a refused request')
    await assertHealthy(colony)
  })

  it('answers an unknown subject under the prefix with unsupported subject, and keeps serving', async () => {
    const reply = await ask(wash.nc, `${wash.prefix}.nonsense`, { anything: true })
    assert.deepEqual({ success: reply.success, message: reply.message, accepted: reply.accepted }, { success: false, message: 'unsupported subject', accepted: false })
    const ping = await wash.request('host.ping')
    assert.equal(ping.response.id, hostId)
    await assertHealthy(colony)
  })

  it('answers a known verb without its host id (or with something that is no host id) at once, naming what is missing', async () => {
    // Each would otherwise wait for ask's 2 s timeout: no subscription took these subjects.
    const MISSING = ['component.scale', 'component.update', 'provider.start', 'provider.stop', 'label.put', 'label.del', 'host.stop']
    for (const tail of MISSING) {
      const reply = await ask(wash.nc, `${wash.prefix}.${tail}`, { component_ref: ADDER, component_id: 'adder', count: 1 })
      assert.equal(reply.success, false, tail)
      assert.equal(reply.message, `unsupported subject: ${tail} needs the id of the host that acts (${tail}.{hostId})`)
    }
    const notAnId = await ask(wash.nc, `${wash.prefix}.component.scale.my-host`, SCALE)
    assert.equal(notAnId.success, false)
    assert.match(notAnId.message, /^unsupported subject: component\.scale\.my-host: "my-host" is not a host id/)
    for (const tail of ['component', 'component.frobnicate', 'link.put.extra', 'claims.get.x', `component.scale.${hostId}.extra`, `host.${hostId}.nope`]) {
      const reply = await ask(wash.nc, `${wash.prefix}.${tail}`, {})
      assert.deepEqual({ success: reply.success, message: reply.message }, { success: false, message: 'unsupported subject' }, tail)
    }
    assert.equal(colony.rt.system.list().some((a) => a.name === 'adder'), false, 'nothing was scaled')
    await assertHealthy(colony)
  })
})
