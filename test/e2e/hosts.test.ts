import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ManualClock } from '../../src/clock.js'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { assertError, call } from '../helpers/components.js'
import { as, signup } from '../helpers/identity.js'
import { request, type JsonResponse } from '../helpers/http.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { Receiver } from '../helpers/receiver.js'

const HOUR = 3_600_000

describe('hosts (Wrenn): registration, credentials, heartbeats, status', function () {
  this.timeout(30_000)
  let colony: TestColony
  let clock: ManualClock
  let base: string
  let mqtt: Recorder

  beforeEach(async () => {
    clock = new ManualClock(Date.now())
    colony = await startColony({ clock, config: { hosts: { heartbeatTimeoutMs: 90_000, checkIntervalMs: 15_000, offlineAfterMs: 600_000 } } })
    base = colony.rt.urls.http
    mqtt = await connect(colony.rt.urls.mqtt)
    await mqtt.subscribe('system/events/#', 'agents/#')
  })
  afterEach(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  const create = async (body: unknown = { type: 'regular' }): Promise<{ id: string, token: string }> => {
    const res = await call('POST', `${base}/v1/hosts`, body)
    assert.equal(res.status, 201, JSON.stringify(res.body))
    assert.equal(res.body.host.status, 'pending')
    assert.match(res.body.registration_token, /^[0-9a-f]{64}$/)
    return { id: res.body.host.id, token: res.body.registration_token }
  }
  const registerWith = (token: string): Promise<JsonResponse> => request('POST', `${base}/v1/hosts/register`, { token, address: '10.0.0.5:5007', arch: 'x86_64', cpu_cores: 4 })
  const beat = (id: string, jwt: string): Promise<JsonResponse> => request('POST', `${base}/v1/hosts/${id}/heartbeat`, undefined, { 'x-host-token': jwt })
  const status = async (id: string): Promise<string> => (await call('GET', `${base}/v1/hosts/${id}`)).body.status

  it('a registration token is single use and expires after 1 h (injected clock)', async () => {
    const a = await create()
    const first = await registerWith(a.token)
    assert.equal(first.status, 201, JSON.stringify(first.body))
    assert.equal(first.body.host.status, 'online')
    assert.match(first.body.refresh_token, /^[0-9a-f]{64}$/)
    const claims = JSON.parse(Buffer.from(first.body.token.split('.')[1], 'base64url').toString())
    assert.deepEqual({ typ: claims.typ, host_id: claims.host_id, ttl: claims.exp - claims.iat }, { typ: 'host', host_id: a.id, ttl: 7 * 86_400 })
    assertError(await registerWith(a.token), 401, 'unauthorized', 'a used token')
    // A host JWT is no user credential.
    assertError(await as(first.body.token, 'GET', `${base}/v1/hosts`), 401, 'unauthorized', 'a host JWT as a bearer')

    const b = await create()
    clock.advance(HOUR + 1)
    assertError(await registerWith(b.token), 401, 'unauthorized', 'an expired token')
    assert.equal(await status(b.id), 'pending')
    // A pending host gets a new token (and it works); a registered one does not.
    const again = await call('POST', `${base}/v1/hosts/${b.id}/token`)
    assert.equal(again.status, 201)
    assert.equal((await registerWith(again.body.registration_token)).status, 201)
    assertError(await call('POST', `${base}/v1/hosts/${b.id}/token`), 409, 'host_not_pending')
  })

  it('refresh rotates (the old token is revoked); reusing a revoked one revokes the whole family', async () => {
    const h = await create()
    const reg = (await registerWith(h.token)).body
    const r1 = await request('POST', `${base}/v1/hosts/auth/refresh`, { refresh_token: reg.refresh_token })
    assert.equal(r1.status, 200, JSON.stringify(r1.body))
    assert.notEqual(r1.body.refresh_token, reg.refresh_token)
    assert.equal((await beat(h.id, r1.body.token)).status, 204)
    const r2 = await request('POST', `${base}/v1/hosts/auth/refresh`, { refresh_token: r1.body.refresh_token })
    assert.equal(r2.status, 200)
    // The first token again: a replay. It fails, and so does the newest one of its family from now on.
    assertError(await request('POST', `${base}/v1/hosts/auth/refresh`, { refresh_token: reg.refresh_token }), 401, 'unauthorized', 'reuse')
    assertError(await request('POST', `${base}/v1/hosts/auth/refresh`, { refresh_token: r2.body.refresh_token }), 401, 'unauthorized', 'the family is revoked')
    assertError(await request('POST', `${base}/v1/hosts/auth/refresh`, { refresh_token: 'f'.repeat(64) }), 401, 'unauthorized', 'unknown')
  })

  it('a heartbeat with another host\'s token is 403; pending -> online -> unreachable -> offline -> online with host.up|down events and alerts', async () => {
    const a = await create()
    const b = await create()
    const ja = (await registerWith(a.token)).body.token as string
    const jb = (await registerWith(b.token)).body.token as string
    assertError(await beat(a.id, jb), 403, 'forbidden', 'b\'s token on a')
    assertError(await beat(a.id, 'nope'), 401, 'unauthorized')
    assertError(await request('POST', `${base}/v1/hosts/${a.id}/heartbeat`), 401, 'unauthorized', 'no token')
    assert.equal(await status(a.id), 'online')
    // The host is an actor.
    const spawn = await mqtt.next((m) => m.topic === `agents/${a.id}/spawn`, { what: 'the host actor' })
    assert.equal(spawn.json.agentType, 'host')

    const mark = mqtt.mark
    clock.advance(60_000)
    assert.equal((await beat(a.id, ja)).status, 204)
    clock.advance(60_000) // a beat 60 s ago: still online; b never beat since registering 120 s ago: unreachable
    assert.equal(await status(a.id), 'online')
    assert.equal(await status(b.id), 'unreachable')
    clock.advance(45_000) // 105 s since a's beat
    assert.equal(await status(a.id), 'unreachable')
    const down = await mqtt.next((m) => m.topic === 'system/events/host.down' && m.json.resource.id === a.id, { from: mark, what: 'host.down' })
    assert.deepEqual({ event: down.json.event, type: down.json.resource.type, team: down.json.team_id, actor: down.json.actor.type }, { event: 'host.down', type: 'host', team: '', actor: 'system' })
    assert.match(down.json.timestamp, /^\d{4}-\d\d-\d\dT/)
    await mqtt.next((m) => m.topic === `agents/${a.id}/alert` && m.json.code === 'host_unreachable', { from: mark, what: 'the unreachable alert' })

    clock.advance(600_000)
    assert.equal(await status(a.id), 'offline')
    const upMark = mqtt.mark
    assert.equal((await beat(a.id, ja)).status, 204)
    assert.equal(await status(a.id), 'online')
    const up = await mqtt.next((m) => m.topic === 'system/events/host.up' && m.json.resource.id === a.id, { from: upMark, what: 'host.up' })
    assert.equal(up.json.event, 'host.up')
    await mqtt.next((m) => m.topic === `agents/${a.id}/alert` && m.json.code === 'host_online', { from: upMark, what: 'the online alert' })

    // main-actor lists hosts with their status.
    const chatMark = mqtt.mark
    assert.equal((await call('POST', `${base}/api/chat`, { to: 'main-actor', content: 'hosts' })).status, 202)
    const reply = await mqtt.next((m) => m.topic === 'agents/main-actor/chat' && typeof m.json.content === 'string' && m.json.content.includes('hosts:'), { from: chatMark, what: 'the hosts reply' })
    assert.match(reply.json.content, new RegExp(`${a.id} \\(regular\\) online`))
    assert.match(reply.json.content, new RegExp(`${b.id} \\(regular\\) offline`))
  })

  it('permissions: admins make regular hosts, a team owner BYOC for its team; members and other teams see nothing', async () => {
    const owner = await signup(base, 'hostowner')
    const other = await signup(base, 'otherteam')
    assertError(await as(owner.token, 'POST', `${base}/v1/hosts`, { type: 'regular' }), 403, 'forbidden')
    const byoc = await as(owner.token, 'POST', `${base}/v1/hosts`, { type: 'byoc', provider: 'bare-metal' })
    assert.equal(byoc.status, 201, JSON.stringify(byoc.body))
    assert.equal(byoc.body.host.team_id, owner.team_id)
    const id = byoc.body.host.id as string
    await create()
    assert.deepEqual((await as(owner.token, 'GET', `${base}/v1/hosts`)).body.map((h: any) => h.id), [id])
    assert.equal((await call('GET', `${base}/v1/hosts`)).body.length, 2, 'the admin sees both')
    assertError(await as(other.token, 'GET', `${base}/v1/hosts/${id}`), 404, 'host_not_found')
    assertError(await as(other.token, 'DELETE', `${base}/v1/hosts/${id}`), 404, 'host_not_found')
    assertError(await as(other.token, 'POST', `${base}/v1/hosts`, { type: 'byoc', team_id: owner.team_id }), 403, 'forbidden')
    // Tags.
    assert.equal((await as(owner.token, 'POST', `${base}/v1/hosts/${id}/tags`, { tag: 'gpu' })).status, 204)
    assert.equal((await as(owner.token, 'POST', `${base}/v1/hosts/${id}/tags`, { tag: 'eu' })).status, 204)
    assert.deepEqual((await as(owner.token, 'GET', `${base}/v1/hosts/${id}/tags`)).body, ['eu', 'gpu'])
    assert.equal((await as(owner.token, 'DELETE', `${base}/v1/hosts/${id}/tags/gpu`)).status, 204)
    assert.deepEqual((await as(owner.token, 'GET', `${base}/v1/hosts/${id}/tags`)).body, ['eu'])
    assert.deepEqual((await as(owner.token, 'GET', `${base}/v1/hosts/${id}/delete-preview`)).body.sandbox_ids, [])
    assert.equal((await as(owner.token, 'DELETE', `${base}/v1/hosts/${id}`)).status, 204)
    assertError(await as(owner.token, 'GET', `${base}/v1/hosts/${id}`), 404, 'host_not_found')
  })

  it('a BYOC host that goes down and comes back reaches its team\'s webhook channel (host.down, host.up), signed', async () => {
    const owner = await signup(base, 'hostalerts')
    const receiver = await new Receiver().start()
    try {
      const channel = await as(owner.token, 'POST', `${base}/v1/channels`, { name: 'hosts', provider: 'webhook', config: { url: receiver.url }, events: ['host.down', 'host.up'] })
      assert.equal(channel.status, 201, JSON.stringify(channel.body))
      const made = await as(owner.token, 'POST', `${base}/v1/hosts`, { type: 'byoc' })
      const id = made.body.host.id as string
      const jwt = (await registerWith(made.body.registration_token as string)).body.token as string
      assert.equal((await beat(id, jwt)).status, 204)
      clock.advance(120_000)
      const down = await receiver.next((r) => r.json?.event === 'host.down', 10_000, 'host.down')
      assert.deepEqual({ team: down.json.team_id, resource: down.json.resource }, { team: owner.team_id, resource: { id, type: 'host' } })
      const signed = createHmac('sha256', channel.body.secret as string).update(`${String(down.headers['x-wrenn-timestamp'])}.${down.body}`).digest('hex')
      assert.equal(down.headers['x-wrenn-signature'], `sha256=${signed}`)
      assert.equal((await beat(id, jwt)).status, 204)
      const up = await receiver.next((r) => r.json?.event === 'host.up', 10_000, 'host.up')
      assert.equal(up.json.resource.id, id)
    } finally {
      await receiver.close()
    }
  })

  it('bad input on every route is a 4xx with a code, and changes nothing', async () => {
    const h = await create()
    const before = JSON.stringify((await call('GET', `${base}/v1/hosts`)).body)
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/v1/hosts', { type: 'spaceship' }, 400, 'invalid_body'],
      ['POST', '/v1/hosts', { type: 'regular', team_id: 'x' }, 400, 'invalid_body'],
      ['POST', '/v1/hosts', { type: 'byoc', team_id: 'no-such-team' }, 404, 'team_not_found'],
      ['POST', '/v1/hosts', { type: 'regular', extra: 1 }, 400, 'invalid_body'],
      ['GET', '/v1/hosts/nope', undefined, 404, 'host_not_found'],
      ['GET', `/v1/hosts/${'x'.repeat(65)}`, undefined, 400, 'invalid_params'],
      ['DELETE', '/v1/hosts/nope', undefined, 404, 'host_not_found'],
      ['DELETE', `/v1/hosts/${h.id}?force=maybe`, undefined, 400, 'invalid_query'],
      ['GET', '/v1/hosts/nope/delete-preview', undefined, 404, 'host_not_found'],
      ['POST', '/v1/hosts/nope/token', undefined, 404, 'host_not_found'],
      ['GET', '/v1/hosts/nope/tags', undefined, 404, 'host_not_found'],
      ['POST', `/v1/hosts/${h.id}/tags`, { tag: '' }, 400, 'invalid_body'],
      ['POST', `/v1/hosts/${h.id}/tags`, { tag: 'a b' }, 400, 'invalid_body'],
      ['DELETE', '/v1/hosts/nope/tags/x', undefined, 404, 'host_not_found'],
      ['POST', '/v1/hosts/register', { token: h.token }, 400, 'invalid_body'],
      ['POST', '/v1/hosts/register', { token: h.token, address: 'a b' }, 400, 'invalid_body'],
      ['POST', '/v1/hosts/register', { token: h.token, address: '1.2.3.4:5', cpu_cores: -1 }, 400, 'invalid_body'],
      ['POST', '/v1/hosts/register', { token: h.token, address: '1.2.3.4:5', lattice_host_id: 'x' }, 400, 'invalid_body'],
      ['POST', '/v1/hosts/register', { token: 'bogus', address: '1.2.3.4:5' }, 401, 'unauthorized'],
      ['POST', '/v1/hosts/auth/refresh', {}, 400, 'invalid_body'],
      ['POST', '/v1/hosts/auth/refresh', { refresh_token: 'x' }, 401, 'unauthorized'],
      ['POST', '/v1/hosts/nope/heartbeat', undefined, 401, 'unauthorized'],
      ['POST', '/v1/capsules', { host_id: 'nope' }, 404, 'host_not_found'],
      ['POST', '/v1/capsules', { host_id: h.id }, 503, 'host_unavailable'],
    ]
    for (const [method, path, body, code, name] of cases) {
      assertError(await call(method, `${base}${path}`, body), code, name, `${method} ${path} ${JSON.stringify(body)}`)
    }
    assert.equal(JSON.stringify((await call('GET', `${base}/v1/hosts`)).body), before)
    // The token was never consumed by the bad registrations.
    assert.equal((await registerWith(h.token)).status, 201)
  })

  it('no secret (tokens, refresh tokens, their hashes) in any GET, log line or MQTT payload', async () => {
    const { createHash } = await import('node:crypto')
    const h = await create()
    const reg = (await registerWith(h.token)).body
    const r = (await request('POST', `${base}/v1/hosts/auth/refresh`, { refresh_token: reg.refresh_token })).body
    await beat(h.id, r.token)
    clock.advance(200_000)
    await beat(h.id, r.token)
    const secrets = [h.token, reg.token, reg.refresh_token, r.token, r.refresh_token]
    const all = [...secrets, ...secrets.map((s: string) => createHash('sha256').update(s).digest('hex'))]
    const seen = [
      JSON.stringify((await call('GET', `${base}/v1/hosts`)).body),
      JSON.stringify((await call('GET', `${base}/v1/hosts/${h.id}`)).body),
      JSON.stringify((await call('GET', `${base}/v1/hosts/${h.id}/delete-preview`)).body),
      JSON.stringify((await call('GET', `${base}/api/actors/${h.id}`)).body),
      JSON.stringify(colony.logs),
      mqtt.received.map((m) => m.payload.toString('utf8')).join('\n'),
    ].join('\n')
    for (const s of all) assert.equal(seen.includes(s), false, 'a secret leaked')
  })
})

describe('hosts after a restart of Colony', function () {
  this.timeout(30_000)
  let dir: string
  let colony: TestColony | undefined
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'colony-hosts-')) })
  afterEach(async () => {
    await colony?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a registered host is an actor again, its JWT still works, and its silence counts from the restart', async () => {
    let clock = new ManualClock(Date.now())
    colony = await startColony({ clock, config: { data: { dir } } })
    let base = colony.rt.urls.http
    const created = (await call('POST', `${base}/v1/hosts`, { type: 'regular' })).body
    const reg = (await request('POST', `${base}/v1/hosts/register`, { token: created.registration_token, address: '10.0.0.9:5007' })).body
    const id = created.host.id as string
    await colony.close()

    clock = new ManualClock(Date.now() + 86_400_000) // a day later
    colony = await startColony({ clock, config: { data: { dir } } })
    base = colony.rt.urls.http
    const actor = await call('GET', `${base}/api/actors/${id}`)
    assert.equal(actor.status, 200, JSON.stringify(actor.body))
    assert.equal(actor.body.agentType, 'host')
    clock.advance(60_000)
    assert.equal((await call('GET', `${base}/v1/hosts/${id}`)).body.status, 'online', 'Colony\'s own downtime is not the host\'s silence')
    assert.equal((await request('POST', `${base}/v1/hosts/${id}/heartbeat`, undefined, { 'x-host-token': reg.token })).status, 204)
    clock.advance(120_000)
    assert.equal((await call('GET', `${base}/v1/hosts/${id}`)).body.status, 'unreachable')
  })
})
