import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { get, request, type JsonResponse } from '../helpers/http.js'
import { as, signup, withKey } from '../helpers/identity.js'
import { createKey, createTeam, switchTeam } from '../helpers/teams.js'

const KEY_VIEW_FIELDS = ['created_at', 'id', 'key_prefix', 'last_used', 'name', 'team_id']
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

describe('identity: API keys', () => {
  let colony: TestColony
  let base: string

  beforeEach(async () => {
    colony = await startColony()
    base = colony.rt.urls.http
  })
  afterEach(async () => {
    const health = await get(`${base}/api/health`)
    assert.equal(health.status, 200, 'the runtime is still healthy')
    await colony?.close()
  })

  it('POST -> 201 with the plaintext: col_ + 32 hex, key_prefix its first 10 characters, last_used null', async () => {
    const account = await signup(base)
    const before = Date.now()
    const res = await as(account.token, 'POST', `${base}/v1/api-keys`, { name: 'ci deploy' })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    assert.deepEqual(Object.keys(res.body).sort(), [...KEY_VIEW_FIELDS, 'key'].sort())
    assert.match(res.body.key, /^col_[0-9a-f]{32}$/)
    assert.equal(res.body.key_prefix, res.body.key.slice(0, 10))
    assert.match(res.body.id, /^key-/)
    assert.equal(res.body.team_id, account.team_id)
    assert.equal(res.body.name, 'ci deploy')
    assert.equal(res.body.last_used, null)
    assert.match(res.body.created_at, ISO)
    assert.ok(Date.parse(res.body.created_at) >= before - 1000 && Date.parse(res.body.created_at) <= Date.now() + 1000)
    const second = await createKey(base, account.token, 'ci deploy')
    assert.notEqual(second.key, res.body.key, 'every key is random, even with the same name')
  })

  it('the name defaults to "Unnamed API Key" (no body, empty object); unicode names round-trip', async () => {
    const account = await signup(base)
    assert.equal((await createKey(base, account.token)).name, 'Unnamed API Key')
    const empty = await as(account.token, 'POST', `${base}/v1/api-keys`, {})
    assert.equal(empty.status, 201)
    assert.equal(empty.body.name, 'Unnamed API Key')
    assert.equal((await createKey(base, account.token, 'clé de prod 🔑 鍵')).name, 'clé de prod 🔑 鍵')
  })

  it('GET lists the team\'s keys without the plaintext or its hash', async () => {
    const account = await signup(base)
    const created = [await createKey(base, account.token, 'one'), await createKey(base, account.token, 'two')]
    const res = await as(account.token, 'GET', `${base}/v1/api-keys`)
    assert.equal(res.status, 200)
    assert.deepEqual(res.body.map((k: any) => k.id), created.map((k) => k.id))
    const text = JSON.stringify(res.body)
    for (const k of created) {
      assert.equal(text.includes(k.key), false, 'the plaintext is never listed')
      assert.equal(text.includes(createHash('sha256').update(k.key).digest('hex')), false, 'nor its hash')
    }
    for (const k of res.body) assert.deepEqual(Object.keys(k).sort(), KEY_VIEW_FIELDS)
    assert.deepEqual(res.body.map((k: any) => k.key_prefix), created.map((k) => k.key_prefix))
  })

  it('a key authenticates as X-API-Key and as Bearer, scoped to its team; last_used is set after use', async () => {
    const account = await signup(base)
    const other = await createTeam(base, account.token, 'Second team')
    const { id, key } = await createKey(base, account.token)
    const before = Date.now()
    const viaHeader = await withKey(key, 'GET', `${base}/v1/teams`)
    assert.equal(viaHeader.status, 200)
    assert.deepEqual(viaHeader.body.map((t: any) => t.id), [account.team_id], `a key sees only its team, not ${other}`)
    const viaBearer = await as(key, 'GET', `${base}/v1/teams`)
    assert.equal(viaBearer.status, 200)
    assert.deepEqual(viaBearer.body, viaHeader.body)
    const listed = (await as(account.token, 'GET', `${base}/v1/api-keys`)).body.find((k: any) => k.id === id)
    assert.match(listed.last_used, ISO)
    assert.ok(Date.parse(listed.last_used) >= before - 1000 && Date.parse(listed.last_used) <= Date.now() + 1000, listed.last_used)
  })

  it('DELETE -> 204; the key stops working on REST at once, even right after a use; a second DELETE -> 404', async () => {
    const account = await signup(base)
    const { id, key } = await createKey(base, account.token)
    const keep = await createKey(base, account.token, 'kept')
    assert.equal((await withKey(key, 'GET', `${base}/api/actors`)).status, 200)
    const res = await as(account.token, 'DELETE', `${base}/v1/api-keys/${id}`)
    assert.equal(res.status, 204)
    assert.equal(res.body, undefined)
    for (const send of [withKey, as]) {
      for (const [method, path] of [['GET', '/api/actors'], ['GET', '/v1/teams'], ['POST', '/v1/api-keys']] as const) {
        const after = await send(key, method, `${base}${path}`)
        assert.equal(after.status, 401, `${method} ${path}`)
        assert.equal(after.body.error.code, 'unauthorized')
        assert.match(after.headers.get('www-authenticate') ?? '', /^Bearer/)
      }
    }
    const list = await as(account.token, 'GET', `${base}/v1/api-keys`)
    assert.deepEqual(list.body.map((k: any) => k.id), [keep.id])
    assert.equal((await withKey(keep.key, 'GET', `${base}/v1/teams`)).status, 200, 'other keys are untouched')
    const again = await as(account.token, 'DELETE', `${base}/v1/api-keys/${id}`)
    assert.equal(again.status, 404)
    assert.equal(again.body.error.code, 'api_key_not_found')
  })

  it('verified keys are remembered by the key itself: a near miss of a key just used is still refused', async () => {
    const account = await signup(base)
    const { key } = await createKey(base, account.token)
    assert.equal((await withKey(key, 'GET', `${base}/api/actors`)).status, 200)
    const last = key.at(-1) === '0' ? '1' : '0'
    // (A trailing space is no near miss: HTTP trims it from a header value.)
    for (const wrong of [`${key.slice(0, -1)}${last}`, key.toUpperCase(), `${key}${last}`, key.slice(0, -1)]) {
      const res = await withKey(wrong, 'GET', `${base}/api/actors`)
      assert.equal(res.status, 401, JSON.stringify(wrong))
      assert.equal(res.body.error.code, 'unauthorized')
    }
    assert.equal((await withKey(key, 'GET', `${base}/v1/teams`)).status, 200, 'the right key still works')
  })

  it('a key can be revoked with the key itself, and then nothing it authenticates works', async () => {
    const account = await signup(base)
    const { id, key } = await createKey(base, account.token)
    assert.equal((await withKey(key, 'DELETE', `${base}/v1/api-keys/${id}`)).status, 204)
    assert.equal((await withKey(key, 'GET', `${base}/v1/api-keys`)).status, 401)
  })

  it('DELETE of an unknown id or another team\'s key -> 404 api_key_not_found, and the key keeps working', async () => {
    const alice = await signup(base)
    const bob = await signup(base)
    const aliceKey = await createKey(base, alice.token)
    await createKey(base, bob.token)
    for (const id of ['key-doesnotexist0000', aliceKey.id, "' OR 1=1 --", '%', 'x'.repeat(2000)]) {
      const res = await as(bob.token, 'DELETE', `${base}/v1/api-keys/${encodeURIComponent(id)}`)
      assert.equal(res.status, 404, id.slice(0, 40))
      assert.equal(res.body.error.code, 'api_key_not_found')
    }
    const bobsList = await as(bob.token, 'GET', `${base}/v1/api-keys`)
    assert.equal(bobsList.body.some((k: any) => k.id === aliceKey.id), false, "another team's keys are not listed")
    assert.equal((await withKey(aliceKey.key, 'GET', `${base}/v1/teams`)).status, 200)
  })

  it('keys belong to the team the JWT is scoped to; teammates see and manage them', async () => {
    const owner = await signup(base)
    const mate = await signup(base)
    const teamId = await createTeam(base, owner.token, 'Shared keys')
    const ownerInTeam = await switchTeam(base, owner.token, teamId)
    assert.equal((await as(ownerInTeam, 'POST', `${base}/v1/teams/${teamId}/members`, { email: mate.email })).status, 201)
    const teamKey = await createKey(base, ownerInTeam, 'team key')
    assert.equal(teamKey.team_id, teamId)
    const personal = await as(owner.token, 'GET', `${base}/v1/api-keys`)
    assert.equal(personal.body.some((k: any) => k.id === teamKey.id), false, 'not listed under the personal team')
    const mateInTeam = await switchTeam(base, mate.token, teamId)
    const seen = await as(mateInTeam, 'GET', `${base}/v1/api-keys`)
    assert.deepEqual(seen.body.map((k: any) => k.id), [teamKey.id])
    const viaKey = await withKey(teamKey.key, 'GET', `${base}/v1/teams`)
    assert.deepEqual(viaKey.body.map((t: any) => t.id), [teamId])
    assert.equal((await as(mateInTeam, 'DELETE', `${base}/v1/api-keys/${teamKey.id}`)).status, 204)
    assert.equal((await withKey(teamKey.key, 'GET', `${base}/v1/teams`)).status, 401)
  })

  it('a member removed from the team cannot manage its keys with the JWT issued before (403), nor mint one', async () => {
    const owner = await signup(base)
    const mate = await signup(base)
    const teamId = await createTeam(base, owner.token, 'Revoking team')
    const ownerInTeam = await switchTeam(base, owner.token, teamId)
    assert.equal((await as(ownerInTeam, 'POST', `${base}/v1/teams/${teamId}/members`, { email: mate.email })).status, 201)
    const mateInTeam = await switchTeam(base, mate.token, teamId)
    const teamKey = await createKey(base, ownerInTeam, 'team key')
    assert.equal((await as(ownerInTeam, 'DELETE', `${base}/v1/teams/${teamId}/members/${mate.user_id}`)).status, 204)
    const attempts: Array<[string, string, unknown]> = [
      ['POST', '/v1/api-keys', { name: 'backdoor' }],
      ['GET', '/v1/api-keys', undefined],
      ['DELETE', `/v1/api-keys/${teamKey.id as string}`, undefined],
    ]
    for (const [method, path, body] of attempts) {
      const res = await as(mateInTeam, method, `${base}${path}`, body)
      assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`)
      assert.equal(res.body.error.code, 'forbidden')
    }
    const keys = await as(ownerInTeam, 'GET', `${base}/v1/api-keys`)
    assert.deepEqual(keys.body.map((k: any) => k.id), [teamKey.id], 'no key was added or removed')
  })

  it('bad names and bodies -> 400 with codes', async () => {
    const account = await signup(base)
    const cases: Array<[unknown, string]> = [
      [{ name: 42 }, 'invalid_body'],
      [{ name: ['a'] }, 'invalid_body'],
      [{ name: '   ' }, 'invalid_body'],
      [{ name: 'n'.repeat(129) }, 'invalid_body'],
      [{ name: 'n'.repeat(100_000) }, 'invalid_body'],
      [[], 'invalid_body'],
      ['"just a string"', 'invalid_body'],
      ['{"name": ', 'invalid_json'],
    ]
    for (const [body, code] of cases) {
      const res = await request('POST', `${base}/v1/api-keys`, body, { authorization: `Bearer ${account.token}` })
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 60))
      assert.equal(res.body.error.code, code)
    }
    const xml = await request('POST', `${base}/v1/api-keys`, '<name/>', { authorization: `Bearer ${account.token}`, 'content-type': 'text/xml' })
    assert.equal(xml.status, 415)
    assert.equal((await as(account.token, 'GET', `${base}/v1/api-keys`)).body.length, 0, 'nothing was created')
    assert.equal((await createKey(base, account.token, 'n'.repeat(128))).name.length, 128)
  })

  it('wrong or unknown credentials -> 401 on every key route, even without auth required', async () => {
    const account = await signup(base)
    const { id } = await createKey(base, account.token)
    const unknownKey = `col_${randomBytes(16).toString('hex')}`
    for (const send of [(m: string, u: string) => withKey(unknownKey, m, u), (m: string, u: string) => as('garbage', m, u),
      (m: string, u: string) => request(m, u, undefined, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` })]) {
      for (const [method, path] of [['POST', '/v1/api-keys'], ['GET', '/v1/api-keys'], ['DELETE', `/v1/api-keys/${id}`]]) {
        const res = await send(method as string, `${base}${path as string}`)
        assert.equal(res.status, 401, `${method} ${path}`)
        assert.equal(res.body.error.code, 'unauthorized')
      }
    }
    assert.equal((await as(account.token, 'GET', `${base}/v1/api-keys`)).body.length, 1, 'the key was not deleted')
  })

  it('secrets (passwords, plaintext keys, JWTs) never appear in GET responses or log lines', async () => {
    const seen: Array<{ what: string, res: JsonResponse }> = []
    const call = async (what: string, res: Promise<JsonResponse>): Promise<JsonResponse> => {
      const r = await res
      seen.push({ what, res: r })
      return r
    }
    const alice = await signup(base)
    const bob = await signup(base)
    const login = await call('login', request('POST', `${base}/v1/auth/login`, { email: alice.email, password: alice.password }))
    const teamId = await createTeam(base, alice.token, 'Secret keepers')
    const inTeam = await switchTeam(base, alice.token, teamId)
    await call('add', as(inTeam, 'POST', `${base}/v1/teams/${teamId}/members`, { email: bob.email }))
    const created = await call('create key', as(inTeam, 'POST', `${base}/v1/api-keys`, { name: 'secret' }))
    const key = created.body.key as string
    const guess = `wrong-guess-${randomBytes(6).toString('hex')}`
    const strayKey = `col_${randomBytes(16).toString('hex')}`
    await call('failed login', request('POST', `${base}/v1/auth/login`, { email: alice.email, password: guess }))
    await call('stray key', withKey(strayKey, 'GET', `${base}/api/actors`))
    await call('spawn', withKey(key, 'POST', `${base}/api/actors`, { kind: 'echo' }))
    for (const token of [key, inTeam, login.body.token, alice.token]) {
      for (const path of ['/v1/teams', `/v1/teams/${teamId}`, `/v1/teams/${teamId}/members`, '/v1/api-keys', '/api/actors',
        '/api/actors/main-actor', '/api/kinds', `/v1/users/search?email=${encodeURIComponent(alice.email.split('@')[0] + '@')}`, '/metrics', '/api/health']) {
        await call(`GET ${path}`, as(token, 'GET', `${base}${path}`))
      }
    }
    await call('GET ?token=', request('GET', `${base}/v1/teams?token=${inTeam}&key=${key}`))
    await call('delete key', as(inTeam, 'DELETE', `${base}/v1/api-keys/${created.body.id as string}`))
    await call('revoked key', withKey(key, 'GET', `${base}/v1/teams`))

    const bootstrap = colony.rt.identity.bootstrap?.apiKey
    assert.ok(bootstrap !== undefined)
    const secrets: Record<string, string> = {
      'alice password': alice.password, 'bob password': bob.password, 'guessed password': guess, 'api key': key, 'stray key': strayKey,
      'bootstrap key': bootstrap, 'signup JWT': alice.token, 'bob JWT': bob.token, 'login JWT': login.body.token, 'team JWT': inTeam,
      'key hash': createHash('sha256').update(key).digest('hex'),
    }
    const issuing = new Set(['login', 'create key'])
    for (const { what, res } of seen) {
      const text = JSON.stringify(res.body) + JSON.stringify([...res.headers])
      for (const [name, secret] of Object.entries(secrets)) {
        if (issuing.has(what) && (secret === res.body?.token || secret === res.body?.key)) continue
        assert.equal(text.includes(secret), false, `${name} appears in the response to ${what}`)
      }
    }
    const logs = colony.logs.map((line) => JSON.stringify(line)).join('\n')
    assert.ok(colony.logs.length > 0)
    for (const [name, secret] of Object.entries(secrets)) assert.equal(logs.includes(secret), false, `${name} appears in the log`)
  })
})
