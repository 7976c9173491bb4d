import assert from 'node:assert/strict'
import mqtt from 'mqtt'
import { WebSocket } from 'ws'
import { ManualClock } from '../../src/clock.js'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { as, signup, withKey, type Account } from '../helpers/identity.js'
import { StreamRecorder } from '../helpers/ws.js'

interface Member extends Account { key: string, keyId: string, actorId: string }

/** A user with their own team, an API key of that team, and an echo actor the team owns. */
async function member (base: string, name: string): Promise<Member> {
  const account = await signup(base, name)
  const key = await as(account.token, 'POST', `${base}/v1/api-keys`, { name: `${name} key` })
  assert.equal(key.status, 201)
  const actor = await as(account.token, 'POST', `${base}/api/actors`, { kind: 'echo', name: `${name}-echo` })
  assert.equal(actor.status, 201)
  assert.equal(actor.body.team, account.team_id)
  return { ...account, key: key.body.key, keyId: key.body.id, actorId: actor.body.id }
}

/** Resolves when the broker closes the client's connection. */
function closed (r: Recorder): Promise<void> {
  return new Promise((resolve) => r.client.once('close', () => resolve()))
}

/** Opens a /ws stream and resolves with the HTTP status when the upgrade is refused. */
function refusedStatus (url: string, protocols?: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols)
    ws.on('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode ?? 0) })
    ws.on('open', () => { ws.close(); reject(new Error(`${url} was accepted`)) })
    ws.on('error', () => undefined)
  })
}

describe('identity on every door: MQTT, /ws and /mqtt', () => {
  let colony: TestColony
  let base: string
  let a: Member
  let b: Member
  const open: Array<{ close(): Promise<void> }> = []

  beforeEach(async () => {
    colony = await startColony({ config: { auth: { mode: 'required' } } })
    base = colony.rt.urls.http
    a = await member(base, 'alice')
    b = await member(base, 'bob')
  })
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)))
    await colony?.close()
  })

  async function mqttAs (password: string | undefined, url = colony.rt.urls.mqtt): Promise<Recorder> {
    const r = await connect(url, password === undefined ? {} : { username: 'anything', password })
    open.push(r)
    return r
  }

  it('MQTT: no credentials -> CONNACK 5, wrong ones -> CONNACK 4 "bad user name or password"; API keys and JWTs work', async () => {
    await assert.rejects(mqtt.connectAsync(colony.rt.urls.mqtt, { reconnectPeriod: 0 }), (e: any) => e.code === 5)
    for (const bad of ['col_00000000000000000000000000000000', 'not-a-token', `${a.token}x`]) {
      await assert.rejects(mqtt.connectAsync(colony.rt.urls.mqtt, { reconnectPeriod: 0, username: 'u', password: bad }),
        (e: any) => e.code === 4 && /Bad username or password/i.test(e.message))
    }
    await mqttAs(a.key)
    await mqttAs(a.token)
  })

  it('MQTT ACL: allowed and refused subscriptions for two users of different teams', async () => {
    const alice = await mqttAs(a.key)
    const bob = await mqttAs(b.key)
    for (const client of [alice, bob]) {
      for (const filter of ['agents/#', 'agents/+/heartbeat', 'system/#', 'homeassistant/#']) {
        const [granted] = await client.client.subscribeAsync(filter)
        assert.equal(granted?.qos, 0, filter)
      }
      // A refused filter is negated in the SUBACK (0x80); mqtt.js reports it as an error. The connection stays.
      for (const filter of ['#', '+/x', 'io/chat', 'other/x', '$SYS/#']) {
        await assert.rejects(client.client.subscribeAsync(filter), /Subscribe error/, filter)
      }
      assert.equal(client.client.connected, true)
    }
  })

  it('MQTT delivery: a user receives the topics of their team\'s actors and of system actors, never another team\'s', async () => {
    const alice = await mqttAs(a.key)
    await alice.subscribe('agents/+/heartbeat')
    await alice.next((m) => m.topic === `agents/${a.actorId}/heartbeat`)
    await alice.next((m) => m.topic === 'agents/main-actor/heartbeat')
    const admin = await mqttAs(colony.rt.identity.bootstrap?.apiKey)
    await admin.subscribe('agents/+/heartbeat')
    // Once the admin has seen two beats of Bob's actor, Alice would have seen one too if it leaked.
    const first = await admin.next((m) => m.topic === `agents/${b.actorId}/heartbeat`)
    await admin.next((m) => m.topic === `agents/${b.actorId}/heartbeat`, { from: first.index + 1 })
    await alice.next((m) => m.topic === `agents/${a.actorId}/heartbeat`, { from: alice.mark })
    assert.equal(alice.received.filter((m) => m.topic.includes(b.actorId)).length, 0)
  })

  it('system/spawn reaches the spawned actor\'s team and admins only; system/lattice/# and system/violations admins only (MQTT and /ws)', async () => {
    const alice = await mqttAs(a.key)
    const bob = await mqttAs(b.key)
    const admin = await mqttAs(colony.rt.identity.bootstrap?.apiKey)
    for (const r of [alice, bob, admin]) await r.subscribe('system/#')
    const aliceWs = await StreamRecorder.open(`${colony.rt.urls.ws}?topics=system/%23&token=${a.key}`)
    open.push(aliceWs)
    const spawn = async (who: Member, name: string): Promise<string> => {
      const res = await as(who.token, 'POST', `${base}/api/actors`, { kind: 'echo', name })
      assert.equal(res.status, 201)
      return res.body.id as string
    }
    const announced = (id: string) => (m: { topic: string, json?: any }) => m.topic === 'system/spawn' && m.json?.agentId === id

    const alices = await spawn(a, 'alice-two')
    colony.rt.broker.bus.publish('system/lattice/events/component_scaled', { data: { component_id: 'secret-of-some-team' } })
    const bobs = await spawn(b, 'bob-two')
    const marker = await spawn(a, 'alice-three')
    // Everything above went through the bus in this order: once the last announcement is in, the rest was decided.
    await admin.next(announced(marker))
    await alice.next(announced(marker))
    await bob.next(announced(bobs))
    await aliceWs.until(() => aliceWs.frames.some((f) => f.topic === 'system/spawn' && f.payload.agentId === marker))
    assert.ok(admin.received.some(announced(alices)) && admin.received.some(announced(bobs)), 'admins see every spawn')
    assert.ok(admin.received.some((m) => m.topic === 'system/lattice/events/component_scaled'), 'and the lattice')
    assert.ok(alice.received.some(announced(alices)), 'alice sees her own spawn')
    for (const [who, got] of [['alice', alice.received], ['bob', bob.received]] as const) {
      assert.equal(got.filter((m) => m.topic.startsWith('system/lattice/')).length, 0, `${who} gets no lattice event`)
    }
    assert.equal(alice.received.filter(announced(bobs)).length, 0, 'alice never learns of bob\'s actor')
    assert.equal(bob.received.filter((m) => announced(alices)(m) || announced(marker)(m)).length, 0, 'nor bob of alice\'s')
    assert.deepEqual(aliceWs.frames.filter((f) => f.topic === 'system/spawn').map((f) => f.payload.agentId), [alices, marker], '/ws: the same rule')
    assert.equal(aliceWs.frames.filter((f) => f.topic.startsWith('system/lattice/')).length, 0)
  })

  it('system/health lists to each user only the stale actors they can see (MQTT and /ws); admins get it whole', async () => {
    const alice = await mqttAs(a.key)
    const bob = await mqttAs(b.key)
    const admin = await mqttAs(colony.rt.identity.bootstrap?.apiKey)
    for (const r of [alice, bob, admin]) await r.subscribe('system/health')
    const aliceWs = await StreamRecorder.open(`${colony.rt.urls.ws}?topics=system/health&token=${a.key}`)
    open.push(aliceWs)
    const report = { agentCount: 14, staleAgents: [a.actorId, b.actorId, 'main-actor'], timestampMs: 1_700_000_000_000 }
    colony.rt.broker.bus.publish('system/health', report)
    const seen = (r: Recorder): Promise<unknown> => r.next((m) => m.topic === 'system/health' && m.json?.timestampMs === report.timestampMs).then((m) => m.json)
    assert.deepEqual(await seen(admin), report)
    assert.deepEqual(await seen(alice), { ...report, staleAgents: [a.actorId, 'main-actor'] })
    assert.deepEqual(await seen(bob), { ...report, staleAgents: [b.actorId, 'main-actor'] })
    await aliceWs.until(() => aliceWs.frames.some((f) => f.topic === 'system/health' && f.payload.timestampMs === report.timestampMs))
    assert.deepEqual(aliceWs.frames.find((f) => f.payload?.timestampMs === report.timestampMs).payload, { ...report, staleAgents: [a.actorId, 'main-actor'] })
  })

  it('MQTT ACL: commands and chat for one\'s own team\'s actors pass; another team\'s or a random topic close the connection', async () => {
    const alice = await mqttAs(a.key)
    await alice.subscribe(`agents/${a.actorId}/#`, 'agents/qa-agent/alert')
    await alice.publish(`agents/${a.actorId}/commands`, { command: 'pause' })
    await alice.next((m) => m.topic === `agents/${a.actorId}/status` && m.json?.state === 'paused')
    await alice.publish(`agents/${a.actorId}/commands`, { command: 'resume' })
    await alice.next((m) => m.topic === `agents/${a.actorId}/status` && m.json?.state === 'running')
    await alice.publish(`agents/${a.actorId}/chat`, { id: 'c1', content: 'hello' })
    await alice.next((m) => m.json?.inReplyTo === 'c1')
    for (const topic of [`agents/${b.actorId}/commands`, `agents/${b.actorId}/chat`, 'random/topic', 'agents/ghost/commands']) {
      const intruder = await mqttAs(a.key)
      const gone = closed(intruder)
      intruder.client.publish(topic, JSON.stringify({ command: 'delete' }))
      await gone
    }
    const bobs = await withKey(b.key, 'GET', `${base}/api/actors/${b.actorId}`)
    assert.equal(bobs.body.state, 'running', "Bob's actor was not touched")
  })

  it('chat over MQTT is answered within the sender\'s view: main-actor lists and spawns for the sender\'s team', async () => {
    const alice = await mqttAs(a.key)
    await alice.subscribe('agents/main-actor/chat', 'agents/io-agent/chat')
    await alice.publish('io/chat', { id: 'q1', from: 'alice', content: 'agents' })
    const list = await alice.next((m) => m.json?.inReplyTo === 'q1')
    assert.match(list.json.content, /alice-echo/)
    assert.doesNotMatch(list.json.content, /bob-echo/)
    await alice.publish('io/chat', { id: 'q2', from: 'alice', content: '@bob-echo hi' })
    const unknown = await alice.next((m) => m.json?.inReplyTo === 'q2')
    assert.equal(unknown.topic, 'agents/io-agent/chat')
    assert.match(unknown.json.content, /don't know @bob-echo/)
    await alice.publish('io/chat', { id: 'q3', from: 'alice', content: 'spawn echo alice-two' })
    await alice.next((m) => m.json?.inReplyTo === 'q3' && /spawned alice-two/.test(m.json.content))
    const mine = await withKey(a.key, 'GET', `${base}/api/actors/alice-two`)
    assert.equal(mine.body.team, a.team_id)
    assert.equal((await withKey(b.key, 'GET', `${base}/api/actors/alice-two`)).status, 404)
  })

  it('a revoked API key stops working on REST, MQTT and /ws immediately', async () => {
    const alice = await mqttAs(a.key)
    const stream = await StreamRecorder.open(`${colony.rt.urls.ws}?topics=agents/%23&token=${a.key}`)
    open.push(stream)
    const streamClosed = new Promise<number>((resolve) => stream.ws.once('close', (code) => resolve(code)))
    const mqttClosed = closed(alice)
    assert.equal((await withKey(a.key, 'GET', `${base}/api/actors`)).status, 200)
    const del = await as(a.token, 'DELETE', `${base}/v1/api-keys/${a.keyId}`)
    assert.equal(del.status, 204)
    const after = await withKey(a.key, 'GET', `${base}/api/actors`)
    assert.equal(after.status, 401)
    assert.equal(after.body.error.code, 'unauthorized')
    await mqttClosed
    assert.equal(await streamClosed, 1008)
    await assert.rejects(mqtt.connectAsync(colony.rt.urls.mqtt, { reconnectPeriod: 0, username: 'u', password: a.key }), (e: any) => e.code === 4)
    assert.equal(await refusedStatus(`${colony.rt.urls.ws}?token=${a.key}`), 401)
  })

  it('/ws: credentials by header, subprotocol or ?token=; none or wrong -> 401; a filter outside the ACL -> 403', async () => {
    assert.equal(await refusedStatus(colony.rt.urls.ws), 401)
    assert.equal(await refusedStatus(`${colony.rt.urls.ws}?token=nope`), 401)
    assert.equal(await refusedStatus(`${colony.rt.urls.ws}?topics=%23&token=${a.key}`), 403)
    const byQuery = await StreamRecorder.open(`${colony.rt.urls.ws}?topics=agents/%2B/heartbeat&token=${a.token}`)
    open.push(byQuery)
    await byQuery.until(() => byQuery.frames.some((f) => f.topic === `agents/${a.actorId}/heartbeat`))
    const byProtocol = new WebSocket(`${colony.rt.urls.ws}?topics=agents/%2B/heartbeat`, ['colony', `bearer.${a.key}`])
    const protocol = await new Promise<string>((resolve, reject) => {
      byProtocol.once('open', () => resolve(byProtocol.protocol))
      byProtocol.once('error', reject)
    })
    assert.equal(protocol, 'colony', 'the token is never echoed back as the chosen subprotocol')
    byProtocol.close()
    const byHeader = new WebSocket(`${colony.rt.urls.ws}?topics=agents/%2B/heartbeat`, { headers: { 'x-api-key': a.key } })
    await new Promise<void>((resolve, reject) => { byHeader.once('open', () => resolve()); byHeader.once('error', reject) })
    byHeader.close()
    // Team-scoped delivery on /ws as on MQTT.
    await byQuery.until(() => byQuery.frames.filter((f) => f.topic === 'agents/main-actor/heartbeat').length >= 2)
    assert.equal(byQuery.frames.filter((f) => f.topic.includes(b.actorId)).length, 0)
  })

  it('/mqtt: a token on the WebSocket upgrade stands for a CONNECT without password; a wrong one is 401', async () => {
    const ws = await mqttAs(undefined, `${colony.rt.urls.mqttWs}?token=${a.key}`)
    await ws.subscribe(`agents/${a.actorId}/heartbeat`)
    await ws.next((m) => m.topic === `agents/${a.actorId}/heartbeat`)
    assert.equal(await refusedStatus(`${colony.rt.urls.mqttWs}?token=wrong`, ['mqtt']), 401)
    await assert.rejects(mqtt.connectAsync(colony.rt.urls.mqttWs, { reconnectPeriod: 0 }), (e: any) => e.code === 5)
  })

  it('an MQTT session stops seeing a team\'s actors the moment its user is removed from the team', async () => {
    // Bob adds Alice to his team; her JWT session then sees his actor's beats, until he removes her.
    assert.equal((await as(b.token, 'POST', `${base}/v1/teams/${b.team_id}/members`, { email: a.email })).status, 201)
    const alice = await mqttAs(a.token)
    await alice.subscribe('agents/+/heartbeat')
    await alice.next((m) => m.topic === `agents/${b.actorId}/heartbeat`)
    assert.equal((await as(b.token, 'DELETE', `${base}/v1/teams/${b.team_id}/members/${a.user_id}`)).status, 204)
    // One beat of her own actor emitted after the removal is a barrier (deliveries to a client keep their order);
    // from there, two more of hers and none of Bob's.
    const barrier = await alice.next((m) => m.topic === `agents/${a.actorId}/heartbeat`, { from: alice.mark })
    const from = barrier.index + 1
    const next = await alice.next((m) => m.topic === `agents/${a.actorId}/heartbeat`, { from })
    await alice.next((m) => m.topic === `agents/${a.actorId}/heartbeat`, { from: next.index + 1 })
    assert.equal(alice.on(`agents/${b.actorId}/heartbeat`, from).length, 0)
  })

  it('no secret appears in any MQTT payload', async () => {
    const admin = await mqttAs(colony.rt.identity.bootstrap?.apiKey)
    await admin.subscribe('#')
    const c = await member(base, 'carol')
    await as(c.token, 'POST', `${base}/v1/auth/login`, { email: c.email, password: c.password })
    await mqttAs(c.key)
    await admin.next((m) => m.topic === `agents/${c.actorId}/heartbeat`)
    const everything = admin.received.map((m) => m.payload.toString('utf8')).join('\n')
    for (const secret of [c.password, c.key, c.token, a.key, a.token, colony.rt.identity.bootstrap?.apiKey ?? '']) {
      assert.ok(!everything.includes(secret), 'a secret was published')
    }
  })
})

describe('JWT expiry ends sessions on every door', () => {
  let colony: TestColony
  let clock: ManualClock

  beforeEach(async () => {
    clock = new ManualClock(Date.now())
    // Slow heartbeats: advancing the manual clock by 6 h fires every timer that falls due on the way.
    colony = await startColony({ clock, config: { auth: { mode: 'required' }, actors: { heartbeatIntervalMs: 600_000 } } })
  })
  afterEach(async () => {
    await colony?.close()
  })

  it('an expired JWT -> 401 on REST; its MQTT session and /ws stream are closed when it expires', async () => {
    const base = colony.rt.urls.http
    const account = await signup(base, 'dave')
    const client = await connect(colony.rt.urls.mqtt, { username: 'dave', password: account.token })
    const stream = await StreamRecorder.open(`${colony.rt.urls.ws}?topics=system/%23&token=${account.token}`)
    try {
      const mqttClosed = closed(client)
      const wsClosed = new Promise<number>((resolve) => stream.ws.once('close', (code) => resolve(code)))
      assert.equal((await as(account.token, 'GET', `${base}/v1/teams`)).status, 200)
      clock.advance(6 * 3600 * 1000 + 1000)
      const res = await as(account.token, 'GET', `${base}/v1/teams`)
      assert.equal(res.status, 401)
      assert.match(res.body.error.message, /expired/)
      await mqttClosed
      assert.equal(await wsClosed, 1008)
    } finally {
      await client.close()
      await stream.close()
    }
  })
})
