import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import { startColony, SYSTEM_ACTORS, BRIDGE_ACTORS, type TestColony } from '../helpers/runtime.js'
import { connect } from '../helpers/mqtt.js'
import { get, post, request, type JsonResponse } from '../helpers/http.js'
import { as, signup, withKey } from '../helpers/identity.js'
import { createKey, roleMatrix, type Matrix } from '../helpers/teams.js'

const EVERYONE = [...SYSTEM_ACTORS, ...BRIDGE_ACTORS]

describe('identity: actors carry an owning team', () => {
  let colony: TestColony
  let base: string
  let m: Matrix
  /** An echo actor spawned by the team's owner, with the JWT scoped to the team. */
  let actor: { id: string, name: string }

  beforeEach(async () => {
    colony = await startColony()
    base = colony.rt.urls.http
    m = await roleMatrix(base, 'Actor team')
    const res = await as(m.owner.teamToken, 'POST', `${base}/api/actors`, { kind: 'echo' })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    actor = { id: res.body.id, name: res.body.name }
  })
  afterEach(async () => {
    const health = await get(`${base}/api/health`)
    assert.equal(health.status, 200, 'the runtime is still healthy')
    await colony?.close()
  })

  const names = (res: JsonResponse): string[] => res.body.map((a: any) => a.name)

  it('POST /api/actors records the caller\'s active team; members list it, other teams do not, admins see all', async () => {
    const spawned = await as(m.owner.teamToken, 'GET', `${base}/api/actors/${actor.id}`)
    assert.equal(spawned.body.team, m.teamId)
    for (const token of [m.owner.teamToken, m.admin.teamToken, m.member.teamToken, m.member.token]) {
      const list = await as(token, 'GET', `${base}/api/actors`)
      assert.equal(list.status, 200)
      assert.ok(names(list).includes(actor.name), 'every member of the team sees it')
    }
    const outsider = await as(m.outsider.token, 'GET', `${base}/api/actors`)
    assert.equal(outsider.status, 200)
    assert.equal(names(outsider).includes(actor.name), false, 'another team does not')
    assert.equal(outsider.body.some((a: any) => a.id === actor.id), false)
    const outsiderBeats = await as(m.outsider.token, 'GET', `${base}/api/actors?include=heartbeat`)
    assert.deepEqual(names(outsiderBeats).sort(), [...EVERYONE].sort(), 'with heartbeats too')
    assert.deepEqual(names(outsider).sort(), [...EVERYONE].sort(), 'system actors and bridges are visible to everyone')
    const admin = await withKey(colony.rt.identity.bootstrap?.apiKey ?? '', 'GET', `${base}/api/actors`)
    assert.ok(names(admin).includes(actor.name), 'a platform admin sees every team\'s actors')
    assert.ok(names(await get(`${base}/api/actors`)).includes(actor.name), 'loopback development mode acts as the admin')
    const teamKey = await createKey(base, m.member.teamToken)
    assert.ok(names(await withKey(teamKey.key, 'GET', `${base}/api/actors`)).includes(actor.name), "the team's API key sees it")
    const outsiderKey = await createKey(base, m.outsider.token)
    assert.equal(names(await withKey(outsiderKey.key, 'GET', `${base}/api/actors`)).includes(actor.name), false)
  })

  it('another team gets 404 actor_not_found on GET, pause, resume, DELETE and chat, by id and by name; nothing changes', async () => {
    for (const ref of [actor.id, actor.name]) {
      const attempts: Array<[string, string, unknown]> = [
        ['GET', `/api/actors/${ref}`, undefined],
        ['POST', `/api/actors/${ref}/pause`, undefined],
        ['POST', `/api/actors/${ref}/resume`, undefined],
        ['DELETE', `/api/actors/${ref}`, undefined],
        ['POST', '/api/chat', { to: ref, content: 'hello from outside' }],
      ]
      for (const [method, path, body] of attempts) {
        const res = await as(m.outsider.token, method, `${base}${path}`, body)
        assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(res.body)}`)
        assert.equal(res.body.error.code, 'actor_not_found')
        assert.equal(JSON.stringify(res.body).includes(m.teamId), false, 'the owning team is not revealed')
      }
    }
    const still = await as(m.member.teamToken, 'GET', `${base}/api/actors/${actor.id}`)
    assert.equal(still.status, 200)
    assert.equal(still.body.state, 'running')
    assert.equal(still.body.mailboxDepth, 0, 'no message was delivered')
  })

  it('system actors are visible to everyone and still protected; anyone may chat to them', async () => {
    const main = await as(m.outsider.token, 'GET', `${base}/api/actors/main-actor`)
    assert.equal(main.status, 200)
    assert.equal(main.body.team, null)
    const pause = await as(m.outsider.token, 'POST', `${base}/api/actors/main-actor/pause`)
    assert.equal(pause.status, 403)
    assert.equal(pause.body.error.code, 'actor_protected')
    const chat = await as(m.outsider.token, 'POST', `${base}/api/chat`, { content: 'help' })
    assert.equal(chat.status, 202)
    assert.equal(chat.body.agentId, 'main-actor')
  })

  it('team members steer it: chat 202, pause, resume, DELETE; then it is gone', async () => {
    const mqtt = await connect(colony.rt.urls.mqtt)
    try {
      await mqtt.subscribe(`agents/${actor.id}/chat`)
      const chat = await as(m.member.teamToken, 'POST', `${base}/api/chat`, { to: actor.name, content: 'ping from a member' })
      assert.equal(chat.status, 202, JSON.stringify(chat.body))
      const reply = await mqtt.next((msg) => msg.json?.inReplyTo === chat.body.id, { what: 'the echo reply' })
      assert.equal(reply.json.content, 'ping from a member')
    } finally {
      await mqtt.close()
    }
    const paused = await as(m.member.teamToken, 'POST', `${base}/api/actors/${actor.id}/pause`)
    assert.equal(paused.status, 200)
    assert.equal(paused.body.state, 'paused')
    const resumed = await as(m.admin.teamToken, 'POST', `${base}/api/actors/${actor.id}/resume`)
    assert.equal(resumed.body.state, 'running')
    assert.equal((await as(m.member.token, 'DELETE', `${base}/api/actors/${actor.id}`)).status, 200)
    assert.equal((await as(m.owner.teamToken, 'GET', `${base}/api/actors/${actor.id}`)).status, 404)
  })

  it('a removed member stops seeing the team\'s actors at once', async () => {
    assert.ok(names(await as(m.member.token, 'GET', `${base}/api/actors`)).includes(actor.name))
    assert.equal((await as(m.owner.teamToken, 'DELETE', `${base}/v1/teams/${m.teamId}/members/${m.member.user_id}`)).status, 204)
    assert.equal(names(await as(m.member.token, 'GET', `${base}/api/actors`)).includes(actor.name), false)
    assert.equal((await as(m.member.token, 'GET', `${base}/api/actors/${actor.id}`)).status, 404)
    const chat = await as(m.member.token, 'POST', `${base}/api/chat`, { to: actor.id, content: 'still there?' })
    assert.equal(chat.status, 404)
  })

  it('a removed member cannot spawn into the team with the JWT issued before (403)', async () => {
    assert.equal((await as(m.owner.teamToken, 'DELETE', `${base}/v1/teams/${m.teamId}/members/${m.member.user_id}`)).status, 204)
    const res = await as(m.member.teamToken, 'POST', `${base}/api/actors`, { kind: 'echo', name: 'left-behind' })
    assert.equal(res.status, 403, JSON.stringify(res.body))
    assert.equal(res.body.error.code, 'forbidden')
    assert.equal(names(await as(m.owner.teamToken, 'GET', `${base}/api/actors`)).includes('left-behind'), false)
  })

  it('a JWT scoped to a deleted team can no longer spawn into it or mint keys for it', async () => {
    assert.equal((await as(m.owner.teamToken, 'DELETE', `${base}/v1/teams/${m.teamId}`)).status, 204)
    const spawn = await as(m.owner.teamToken, 'POST', `${base}/api/actors`, { kind: 'echo', name: 'orphan' })
    assert.ok(spawn.status === 403 || spawn.status === 404, `spawn -> ${spawn.status} ${JSON.stringify(spawn.body)}`)
    const key = await as(m.owner.teamToken, 'POST', `${base}/v1/api-keys`, { name: 'orphan key' })
    assert.ok(key.status === 403 || key.status === 404, `key -> ${key.status} ${JSON.stringify(key.body)}`)
    assert.equal(colony.rt.system.list().some((a) => a.name === 'orphan'), false, 'no actor owned by a deleted team')
  })

  it('deleting the team stops and removes its actors', async () => {
    const mqtt = await connect(colony.rt.urls.mqtt)
    try {
      await mqtt.subscribe(`agents/${actor.id}/status`)
      await mqtt.next((msg) => msg.json?.state === 'running', { what: 'the retained running status' })
      const from = mqtt.mark
      assert.equal((await as(m.owner.teamToken, 'DELETE', `${base}/v1/teams/${m.teamId}`)).status, 204)
      await mqtt.next((msg) => msg.payload.length === 0, { from, what: 'the retained status cleared' })
    } finally {
      await mqtt.close()
    }
    const admin = await withKey(colony.rt.identity.bootstrap?.apiKey ?? '', 'GET', `${base}/api/actors/${actor.id}`)
    assert.equal(admin.status, 404)
  })
})

describe('identity: auth.mode', () => {
  let colony: TestColony
  let base: string
  afterEach(async () => {
    await colony?.close()
  })

  const PROTECTED: Array<[string, string, unknown?]> = [
    ['GET', '/api/actors'], ['GET', '/api/actors/main-actor'], ['GET', '/api/kinds'], ['GET', '/metrics'], ['GET', '/ha-map'],
    ['POST', '/api/actors', { kind: 'echo' }], ['POST', '/api/actors/main-actor/pause'], ['DELETE', '/api/actors/echo-1'],
    ['POST', '/api/chat', { content: 'help' }],
    ['GET', '/v1/teams'], ['POST', '/v1/teams', { name: 'Sneaky' }], ['GET', '/v1/teams/team-x'], ['GET', '/v1/teams/team-x/members'],
    ['POST', '/v1/teams/team-x/leave'], ['GET', '/v1/users/search?email=a@'], ['POST', '/v1/auth/switch-team', { team_id: 'team-x' }],
    ['GET', '/v1/api-keys'], ['POST', '/v1/api-keys', { name: 'k' }], ['DELETE', '/v1/api-keys/key-x'],
  ]

  /** Credentials that are wrong in every way: unknown key, garbage, a JWT signed with another secret, a bad scheme. */
  function wrongCredentials (): Array<Record<string, string>> {
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
    const body = Buffer.from(JSON.stringify({ sub: 'usr-x', team_id: 'team-x', role: 'owner', is_admin: true, exp: 4102444800 })).toString('base64url')
    const forged = `${header}.${body}.${createHmac('sha256', 'guess').update(`${header}.${body}`).digest('base64url')}`
    return [
      { 'x-api-key': `col_${randomBytes(16).toString('hex')}` },
      { 'x-api-key': 'garbage' },
      { authorization: `Bearer col_${'0'.repeat(32)}` },
      { authorization: 'Bearer not-a-jwt' },
      { authorization: `Bearer ${forged}` },
      { authorization: 'Basic YWRtaW46YWRtaW4=' },
      { authorization: 'Bearer' },
    ]
  }

  it('required: every protected route without credentials -> 401 with WWW-Authenticate', async () => {
    colony = await startColony({ config: { auth: { mode: 'required' } } })
    base = colony.rt.urls.http
    for (const [method, path, body] of PROTECTED) {
      for (const headers of [{}, { 'x-api-key': '' }] as Array<Record<string, string>>) {
        const res = await request(method, `${base}${path}`, body, headers)
        assert.equal(res.status, 401, `${method} ${path}`)
        assert.equal(res.body.error.code, 'unauthorized')
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/)
      }
    }
    assert.equal(colony.rt.system.list().some((a) => a.kind === 'echo'), false, 'nothing was spawned')
  })

  it('required: wrong credentials -> 401 everywhere', async () => {
    colony = await startColony({ config: { auth: { mode: 'required' } } })
    base = colony.rt.urls.http
    for (const headers of wrongCredentials()) {
      for (const [method, path, body] of PROTECTED) {
        const res = await request(method, `${base}${path}`, body, headers)
        assert.equal(res.status, 401, `${JSON.stringify(headers)} ${method} ${path}`)
        assert.equal(res.body.error.code, 'unauthorized')
      }
    }
  })

  it('required: health, signup and login need no credentials; what they issue opens the protected routes', async () => {
    colony = await startColony({ config: { auth: { mode: 'required' } } })
    base = colony.rt.urls.http
    const health = await get(`${base}/api/health`)
    assert.equal(health.status, 200)
    assert.equal(health.body.status, 'ok')
    const account = await signup(base)
    const login = await post(`${base}/v1/auth/login`, { email: account.email, password: account.password })
    assert.equal(login.status, 200)
    for (const path of ['/api/actors', '/metrics', '/v1/teams', '/v1/api-keys']) {
      assert.equal((await as(login.body.token, 'GET', `${base}${path}`)).status, 200, path)
    }
    const spawned = await as(login.body.token, 'POST', `${base}/api/actors`, { kind: 'echo' })
    assert.equal(spawned.status, 201)
    const key = await createKey(base, login.body.token)
    assert.ok(names(await withKey(key.key, 'GET', `${base}/api/actors`)).includes(spawned.body.name))
    const other = await signup(base)
    assert.equal(names(await as(other.token, 'GET', `${base}/api/actors`)).includes(spawned.body.name), false)
    const admin = await withKey(colony.rt.identity.bootstrap?.apiKey ?? '', 'GET', `${base}/api/actors`)
    assert.equal(admin.status, 200)
    assert.ok(names(admin).includes(spawned.body.name))
  })

  it('loopback (default): no credentials is development mode, but wrong credentials are still 401', async () => {
    colony = await startColony()
    base = colony.rt.urls.http
    for (const path of ['/api/actors', '/metrics', '/v1/teams', '/v1/api-keys']) {
      assert.equal((await get(`${base}${path}`)).status, 200, path)
    }
    for (const headers of wrongCredentials()) {
      for (const [method, path, body] of PROTECTED) {
        const res = await request(method, `${base}${path}`, body, headers)
        assert.equal(res.status, 401, `${JSON.stringify(headers)} ${method} ${path}`)
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/)
      }
    }
    assert.equal(colony.rt.system.list().some((a) => a.kind === 'echo'), false, 'nothing was spawned with wrong credentials')
  })

  function names (res: JsonResponse): string[] {
    return res.body.map((a: any) => a.name)
  }
})
