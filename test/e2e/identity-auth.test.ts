import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { ManualClock } from '../../src/clock.js'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { get, post, request } from '../helpers/http.js'
import { as, signup } from '../helpers/identity.js'
import { claims, createTeam, switchTeam } from '../helpers/teams.js'

const AUTH_RESPONSE_KEYS = ['email', 'name', 'team_id', 'token', 'user_id']
const SIX_HOURS_MS = 6 * 3600_000

describe('identity: signup, login, switch-team', () => {
  let colony: TestColony
  let base: string
  let n = 0
  const fresh = (): string => `person${++n}-${process.pid}@example.test`

  before(async () => {
    colony = await startColony()
    base = colony.rt.urls.http
  })
  after(async () => {
    await colony?.close()
  })
  afterEach(async () => {
    const health = await get(`${base}/api/health`)
    assert.equal(health.status, 200, 'the runtime is still healthy')
  })

  it('signup -> 201 AuthResponse whose JWT carries the seed claims (6 h, owner of the personal team) and works', async () => {
    const email = fresh()
    const res = await post(`${base}/v1/auth/signup`, { email: `  ${email.toUpperCase()} `, password: 'long-enough-1', name: 'Ada Lovelace' })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    assert.deepEqual(Object.keys(res.body).sort(), AUTH_RESPONSE_KEYS)
    assert.equal(res.body.email, email, 'stored trimmed and lower-cased')
    assert.equal(res.body.name, 'Ada Lovelace')
    assert.match(res.body.user_id, /^usr-/)
    const c = claims(res.body.token)
    assert.equal(c.sub, res.body.user_id)
    assert.equal(c.team_id, res.body.team_id)
    assert.equal(c.role, 'owner')
    assert.equal(c.email, email)
    assert.equal(c.is_admin, false)
    assert.equal((c.exp as number) - (c.iat as number), SIX_HOURS_MS / 1000)
    const teams = await as(res.body.token, 'GET', `${base}/v1/teams`)
    assert.equal(teams.status, 200)
    assert.deepEqual(teams.body.map((t: any) => [t.id, t.role]), [[res.body.team_id, 'owner']])
  })

  it('signup with a taken email (any case) -> 409 email_taken', async () => {
    const email = fresh()
    assert.equal((await post(`${base}/v1/auth/signup`, { email, password: 'long-enough-1', name: 'First' })).status, 201)
    const again = await post(`${base}/v1/auth/signup`, { email: email.toUpperCase(), password: 'other-password', name: 'Second' })
    assert.equal(again.status, 409)
    assert.equal(again.body.error.code, 'email_taken')
  })

  it('concurrent signups for one email -> one 201, the rest 409 email_taken', async () => {
    const email = fresh()
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => post(`${base}/v1/auth/signup`, { email, password: `long-enough-${i}`, name: `Racer ${i}` })))
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409])
    for (const r of results.filter((x) => x.status === 409)) assert.equal(r.body.error.code, 'email_taken')
  })

  it('signup field rules -> 400 invalid_body naming the field; the boundaries are accepted', async () => {
    const ok = { email: fresh(), password: 'x'.repeat(8), name: 'n'.repeat(100) }
    const cases: Array<[string, Record<string, unknown>]> = [
      ['email', { password: 'long-enough-1', name: 'No email' }],
      ['email', { email: 'no-at-sign.example.test', password: 'long-enough-1', name: 'x' }],
      ['email', { email: '@', password: 'long-enough-1', name: 'x' }],
      ['email', { email: 'a@', password: 'long-enough-1', name: 'x' }],
      ['email', { email: 'has space@example.test', password: 'long-enough-1', name: 'x' }],
      ['email', { email: `${'a'.repeat(250)}@ex.test`, password: 'long-enough-1', name: 'x' }],
      ['email', { email: 42, password: 'long-enough-1', name: 'x' }],
      ['email', { email: [fresh()], password: 'long-enough-1', name: 'x' }],
      ['password', { email: fresh(), password: 'x'.repeat(7), name: 'x' }],
      ['password', { email: fresh(), password: 'x'.repeat(1025), name: 'x' }],
      ['password', { email: fresh(), password: null, name: 'x' }],
      ['name', { email: fresh(), password: 'long-enough-1', name: '' }],
      ['name', { email: fresh(), password: 'long-enough-1', name: '   ' }],
      ['name', { email: fresh(), password: 'long-enough-1', name: 'n'.repeat(101) }],
      ['name', { email: fresh(), password: 'long-enough-1', name: 'bell\u0007' }],
      ['name', { email: fresh(), password: 'long-enough-1', name: 'x'.repeat(100_000) }],
      ['name', { email: fresh(), password: 'long-enough-1', name: { first: 'x' } }],
    ]
    for (const [field, body] of cases) {
      const res = await post(`${base}/v1/auth/signup`, body)
      assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 80)} -> ${res.status}`)
      assert.equal(res.body.error.code, 'invalid_body')
      assert.equal(res.body.error.field, field, JSON.stringify(res.body))
    }
    assert.equal((await post(`${base}/v1/auth/signup`, ok)).status, 201, '8-character password and 100-character name are fine')
  })

  it('malformed signup and login bodies -> 400/415 with codes; an inherited __proto__ field is not a field', async () => {
    for (const path of ['/v1/auth/signup', '/v1/auth/login']) {
      const badJson = await request('POST', `${base}${path}`, '{"email": "x@y.z",', { 'content-type': 'application/json' })
      assert.equal(badJson.status, 400)
      assert.equal(badJson.body.error.code, 'invalid_json')
      for (const body of ['[]', '"string"', '42', 'null']) {
        const res = await request('POST', `${base}${path}`, body, { 'content-type': 'application/json' })
        assert.equal(res.status, 400, body)
        assert.equal(res.body.error.code, 'invalid_body')
      }
      const empty = await request('POST', `${base}${path}`, '', { 'content-type': 'application/json' })
      assert.equal(empty.status, 400)
      assert.equal(empty.body.error.code, 'invalid_body')
      const xml = await request('POST', `${base}${path}`, '<email>x@y.z</email>', { 'content-type': 'application/xml' })
      assert.equal(xml.status, 415)
      assert.equal(xml.body.error.code, 'unsupported_media_type')
      const huge = await request('POST', `${base}${path}`, JSON.stringify({ email: 'x@y.z', password: 'p'.repeat(1_200_000), name: 'x' }))
      assert.equal(huge.status, 413)
      assert.equal(huge.body.error.code, 'body_too_large')
      const deep = await request('POST', `${base}${path}`, '['.repeat(100_000) + ']'.repeat(100_000))
      assert.equal(deep.status, 400)
      const proto = await request('POST', `${base}${path}`, '{"__proto__": {"email": "p@example.test", "password": "long-enough-1", "name": "P"}}')
      assert.equal(proto.status, 400)
      assert.equal(proto.body.error.field, 'email')
    }
  })

  it('unicode names and SQL-looking input are stored as plain data', async () => {
    const email = `o'brien--${n}@example.test`
    const name = "Zoë 山田 🐝 Robert'); DROP TABLE users;--"
    const res = await post(`${base}/v1/auth/signup`, { email, password: "' OR '1'='1' --", name })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    assert.equal(res.body.name, name)
    const login = await post(`${base}/v1/auth/login`, { email, password: "' OR '1'='1' --" })
    assert.equal(login.status, 200)
    assert.equal(login.body.name, name)
    const other = await signup(base)
    const injected = await post(`${base}/v1/auth/login`, { email: other.email, password: "' OR '1'='1' --" })
    assert.equal(injected.status, 401)
    const injectedEmail = await post(`${base}/v1/auth/login`, { email: "' OR 1=1 --@x", password: 'whatever-at-all' })
    assert.equal(injectedEmail.status, 401)
    assert.equal((await post(`${base}/v1/auth/login`, { email: other.email, password: other.password })).status, 200, 'users table intact')
  })

  it('login -> 200 AuthResponse for the personal team; the email is case-insensitive', async () => {
    const account = await signup(base)
    const res = await post(`${base}/v1/auth/login`, { email: ` ${account.email.toUpperCase()}`, password: account.password })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.deepEqual(Object.keys(res.body).sort(), AUTH_RESPONSE_KEYS)
    assert.equal(res.body.user_id, account.user_id)
    assert.equal(res.body.team_id, account.team_id)
    assert.equal((await as(res.body.token, 'GET', `${base}/v1/teams`)).status, 200)
  })

  it('login with a wrong password or an unknown email -> the same 401 unauthorized', async () => {
    const account = await signup(base)
    const wrong = await post(`${base}/v1/auth/login`, { email: account.email, password: `${account.password}x` })
    const unknown = await post(`${base}/v1/auth/login`, { email: `nobody-${n}@example.test`, password: account.password })
    assert.equal(wrong.status, 401)
    assert.equal(wrong.body.error.code, 'unauthorized')
    assert.equal(unknown.status, 401)
    assert.deepEqual(unknown.body, wrong.body, 'no hint about which emails have accounts')
    assert.equal('token' in wrong.body, false)
  })

  it('a disabled account -> 403 on login, and its existing JWT stops working at once', async () => {
    const account = await signup(base)
    assert.equal((await as(account.token, 'GET', `${base}/v1/teams`)).status, 200)
    colony.rt.identity.store.db.prepare("UPDATE users SET status = 'disabled' WHERE id = ?").run(account.user_id)
    const login = await post(`${base}/v1/auth/login`, { email: account.email, password: account.password })
    assert.equal(login.status, 403)
    assert.equal(login.body.error.code, 'account_disabled')
    const use = await as(account.token, 'GET', `${base}/v1/teams`)
    assert.equal(use.status, 403, 'every JWT request re-checks the account in the database')
  })

  it('switch-team -> 200 with a JWT for the target team carrying the role there', async () => {
    const owner = await signup(base)
    const joiner = await signup(base)
    const teamId = await createTeam(base, owner.token, 'Switch target')
    const ownerInTeam = await switchTeam(base, owner.token, teamId)
    assert.equal(claims(ownerInTeam).role, 'owner')
    assert.equal((await as(ownerInTeam, 'POST', `${base}/v1/teams/${teamId}/members`, { email: joiner.email })).status, 201)
    const res = await as(joiner.token, 'POST', `${base}/v1/auth/switch-team`, { team_id: teamId })
    assert.equal(res.status, 200)
    assert.deepEqual(Object.keys(res.body).sort(), AUTH_RESPONSE_KEYS)
    assert.equal(res.body.user_id, joiner.user_id)
    assert.equal(claims(res.body.token).team_id, teamId)
    assert.equal(claims(res.body.token).role, 'member')
    assert.equal((await as(res.body.token, 'GET', `${base}/v1/teams/${teamId}`)).status, 200)
    assert.equal((await as(joiner.token, 'GET', `${base}/v1/teams/${teamId}`)).status, 403, 'the old token stays scoped to the old team')
  })

  it('switch-team: 403 when not a member, 404 for an unknown team, 400 without team_id, 401 with a bad token', async () => {
    const owner = await signup(base)
    const stranger = await signup(base)
    const teamId = await createTeam(base, owner.token, 'Private')
    const notMember = await as(stranger.token, 'POST', `${base}/v1/auth/switch-team`, { team_id: teamId })
    assert.equal(notMember.status, 403)
    assert.equal(notMember.body.error.code, 'forbidden')
    const unknown = await as(stranger.token, 'POST', `${base}/v1/auth/switch-team`, { team_id: 'team-doesnotexist00' })
    assert.equal(unknown.status, 404)
    assert.equal(unknown.body.error.code, 'team_not_found')
    for (const body of [{}, { team_id: 7 }, { team_id: null }]) {
      const res = await as(stranger.token, 'POST', `${base}/v1/auth/switch-team`, body)
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.equal(res.body.error.field, 'team_id')
    }
    const garbage = await as('not.a.jwt', 'POST', `${base}/v1/auth/switch-team`, { team_id: teamId })
    assert.equal(garbage.status, 401)
    assert.equal(garbage.body.error.code, 'unauthorized')
  })

  it('a forged JWT -> 401: edited claims, alg none, another secret, garbage', async () => {
    const account = await signup(base)
    const [header, body, signature] = account.token.split('.') as [string, string, string]
    const payload = claims(account.token)
    const edited = Buffer.from(JSON.stringify({ ...payload, is_admin: true })).toString('base64url')
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')
    const otherSecret = createHmac('sha256', 'not-the-secret').update(`${header}.${body}`).digest('base64url')
    const forged = [
      `${header}.${edited}.${signature}`,
      `${none}.${edited}.`,
      `${none}.${body}.${signature}`,
      `${header}.${body}.${otherSecret}`,
      `${header}.${body}`,
      `${header}.${body}.${signature}x`,
      'eyJ.eyJ.eyJ',
    ]
    for (const token of forged) {
      const res = await as(token, 'GET', `${base}/v1/teams`)
      assert.equal(res.status, 401, token)
      assert.equal(res.body.error.code, 'unauthorized')
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/)
    }
    assert.equal((await as(account.token, 'GET', `${base}/v1/teams`)).status, 200)
  })
})

describe('identity with an injected clock: JWT expiry and the login rate limit', () => {
  let colony: TestColony
  let base: string
  let clock: ManualClock

  async function start (auth: Record<string, unknown> = {}): Promise<void> {
    clock = new ManualClock(Date.now())
    // Hour-long beats: advancing the clock by hours must not replay thousands of heartbeats.
    colony = await startColony({ clock, config: { auth, actors: { heartbeatIntervalMs: 3_600_000 } } })
    base = colony.rt.urls.http
  }
  afterEach(async () => {
    await colony?.close()
  })

  it('a JWT works until 6 h after issue, then 401 with WWW-Authenticate; logging in again works', async () => {
    await start()
    const account = await signup(base)
    clock.advance(SIX_HOURS_MS - 1000)
    assert.equal((await as(account.token, 'GET', `${base}/v1/teams`)).status, 200)
    assert.equal((await as(account.token, 'GET', `${base}/api/actors`)).status, 200)
    clock.advance(1000)
    for (const path of ['/v1/teams', '/api/actors', '/v1/api-keys']) {
      const res = await as(account.token, 'GET', `${base}${path}`)
      assert.equal(res.status, 401, path)
      assert.equal(res.body.error.code, 'unauthorized')
      assert.match(res.body.error.message, /expired/)
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/)
    }
    const again = await post(`${base}/v1/auth/login`, { email: account.email, password: account.password })
    assert.equal(again.status, 200)
    assert.equal((await as(again.body.token, 'GET', `${base}/v1/teams`)).status, 200)
  })

  it('per account: after N failures even the right password -> 429 rate_limited with Retry-After, until the window passes', async () => {
    await start({ loginMaxPerAccount: 3, loginMaxPerAddress: 1000, loginWindowMs: 60_000 })
    const victim = await signup(base)
    const bystander = await signup(base)
    for (let i = 0; i < 3; i++) {
      assert.equal((await post(`${base}/v1/auth/login`, { email: victim.email, password: `guess-${i}-wrong` })).status, 401)
    }
    const limited = await post(`${base}/v1/auth/login`, { email: victim.email, password: victim.password })
    assert.equal(limited.status, 429)
    assert.equal(limited.body.error.code, 'rate_limited')
    assert.equal(limited.headers.get('retry-after'), '60')
    assert.equal('token' in limited.body, false)
    const upper = await post(`${base}/v1/auth/login`, { email: victim.email.toUpperCase(), password: victim.password })
    assert.equal(upper.status, 429, 'the same account in another case is the same account')
    assert.equal((await post(`${base}/v1/auth/login`, { email: bystander.email, password: bystander.password })).status, 200)
    clock.advance(30_000)
    const later = await post(`${base}/v1/auth/login`, { email: victim.email, password: victim.password })
    assert.equal(later.status, 429)
    assert.equal(later.headers.get('retry-after'), '30')
    clock.advance(30_000)
    assert.equal((await post(`${base}/v1/auth/login`, { email: victim.email, password: victim.password })).status, 200)
  })

  it('a successful login clears the account counter', async () => {
    await start({ loginMaxPerAccount: 3, loginMaxPerAddress: 1000, loginWindowMs: 60_000 })
    const account = await signup(base)
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 2; i++) assert.equal((await post(`${base}/v1/auth/login`, { email: account.email, password: 'nope-nope' })).status, 401)
      assert.equal((await post(`${base}/v1/auth/login`, { email: account.email, password: account.password })).status, 200, `round ${round}`)
    }
  })

  it('per address: failures spread over many emails (X-Forwarded-For is not trusted) -> 429 for every account from that address', async () => {
    await start({ loginMaxPerAccount: 1000, loginMaxPerAddress: 4, loginWindowMs: 120_000 })
    const account = await signup(base)
    for (let i = 0; i < 4; i++) {
      const res = await request('POST', `${base}/v1/auth/login`, { email: `spray-${i}@example.test`, password: 'password1' }, { 'x-forwarded-for': `203.0.113.${i}` })
      assert.equal(res.status, 401)
    }
    const limited = await post(`${base}/v1/auth/login`, { email: account.email, password: account.password })
    assert.equal(limited.status, 429)
    assert.equal(limited.body.error.code, 'rate_limited')
    assert.equal(limited.headers.get('retry-after'), '120')
    clock.advance(120_000)
    assert.equal((await post(`${base}/v1/auth/login`, { email: account.email, password: account.password })).status, 200)
  })
})
