import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ManualClock } from '../../src/clock.js'
import { GitHubClient, OAuthFailure } from '../../src/auth/oauth.js'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { FakeGitHub, type FakeBehaviour, type FakeGitHubUser } from '../helpers/oauth-provider.js'
import { as, signup } from '../helpers/identity.js'
import { request } from '../helpers/http.js'

const FRONTEND = 'https://app.example.test/console'
const STATE_TTL_MS = 10_000
const COOKIE = 'colony_oauth_state'

interface Started { location: URL, cookie: string, setCookie: string }
interface Finished { location: URL, params: URLSearchParams, setCookie: string[] }

describe('OAuth login with GitHub (against a fake GitHub on port 0)', () => {
  let gh: FakeGitHub
  let colony: TestColony
  let clock: ManualClock
  let base: string
  let nextId = 4000
  /** Colony's JWTs handed out during the run: they must not reach a log line either. */
  const issued: string[] = []

  before(async () => {
    gh = await FakeGitHub.start()
    clock = new ManualClock(Date.now())
    colony = await startColony({
      clock,
      config: {
        // Credentials required everywhere else: the OAuth routes must still be reachable without them.
        auth: { mode: 'required' },
        http: { trustProxy: true },
        log: { level: 'debug' },
        oauth: { ...gh.config(), frontendUrl: FRONTEND, stateTtlMs: STATE_TTL_MS },
      },
    })
    base = colony.rt.urls.http
  })
  after(async () => {
    await colony?.close()
    await gh?.close()
  })
  beforeEach(() => {
    gh.reset()
    gh.user = newUser()
  })

  function newUser (): FakeGitHubUser {
    const id = ++nextId
    return {
      id,
      login: `octo${id}`,
      name: `Octo ${id}`,
      emails: [
        { email: `octo${id}-old@example.test`, primary: false, verified: true },
        { email: `Octo${id}@Example.test`, primary: true, verified: true },
      ],
    }
  }

  /** GET /v1/auth/oauth/github: the 302 to the provider and the state cookie it sets. */
  async function start (headers: Record<string, string> = {}): Promise<Started> {
    const res = await fetch(`${base}/v1/auth/oauth/github`, { redirect: 'manual', headers })
    await res.arrayBuffer()
    assert.equal(res.status, 302)
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`)) ?? ''
    const cookie = /^[^;]+/.exec(setCookie)?.[0] ?? ''
    return { location: new URL(res.headers.get('location') ?? ''), cookie, setCookie }
  }

  /** The browser at the provider's consent page: where it is sent back to. */
  async function authorize (location: URL): Promise<URL> {
    const res = await fetch(location, { redirect: 'manual' })
    await res.arrayBuffer()
    assert.equal(res.status, 302)
    return new URL(res.headers.get('location') ?? '')
  }

  /** The browser back at Colony's callback: the 302 to the frontend, whose cookie must always be cleared. */
  async function callback (url: URL | string, cookie?: string): Promise<Finished> {
    const res = await fetch(url, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } })
    await res.arrayBuffer()
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    const setCookie = res.headers.getSetCookie()
    assertCleared(setCookie)
    const location = new URL(res.headers.get('location') ?? '')
    assert.equal(`${location.origin}${location.pathname}`, `${FRONTEND}/auth/github/callback`)
    const token = location.searchParams.get('token')
    if (token !== null) issued.push(token)
    return { location, params: location.searchParams, setCookie }
  }

  function assertCleared (setCookie: string[]): void {
    const cleared = setCookie.find((c) => c.startsWith(`${COOKIE}=;`))
    assert.ok(cleared, `the state cookie is cleared: ${JSON.stringify(setCookie)}`)
    assert.match(cleared, /; path=\/v1\/auth\/oauth/)
    assert.match(cleared, /; expires=Thu, 01 Jan 1970 00:00:00 GMT/)
  }

  /** The whole dance, as a browser does it. */
  async function login (): Promise<URLSearchParams> {
    const s = await start()
    return (await callback(await authorize(s.location), s.cookie)).params
  }

  async function expectError (code: string, flow: () => Promise<URLSearchParams>): Promise<void> {
    const params = await flow()
    assert.deepEqual([...params.keys()], ['error'], params.toString())
    assert.equal(params.get('error'), code)
  }

  describe('GET /v1/auth/oauth/{provider}', () => {
    it('redirects to the configured authorize URL with client_id, redirect_uri, scope and a fresh state', async () => {
      const a = await start()
      const b = await start()
      assert.equal(`${a.location.origin}${a.location.pathname}`, `${gh.url}/login/oauth/authorize`)
      assert.equal(a.location.searchParams.get('client_id'), gh.clientId)
      assert.equal(a.location.searchParams.get('redirect_uri'), `${base}/v1/auth/oauth/github/callback`)
      assert.equal(a.location.searchParams.get('scope'), 'read:user user:email')
      assert.match(a.location.searchParams.get('state') ?? '', /^[\w-]{32}$/)
      assert.notEqual(a.location.searchParams.get('state'), b.location.searchParams.get('state'))
      assert.equal(a.location.searchParams.has('client_secret'), false)
    })

    it('sets a short-lived HttpOnly, SameSite=Lax state cookie on /v1/auth/oauth, not Secure over http', async () => {
      const before = Date.now()
      const { setCookie } = await start()
      const attrs = setCookie.split('; ').slice(1).map((a) => a.toLowerCase())
      assert.ok(attrs.includes('path=/v1/auth/oauth'), setCookie)
      assert.ok(attrs.includes('httponly'), setCookie)
      assert.ok(attrs.includes('samesite=lax'), setCookie)
      assert.ok(!attrs.includes('secure'), setCookie)
      const expires = Date.parse(/expires=([^;]+)/i.exec(setCookie)?.[1] ?? '')
      // The Expires header has one-second resolution.
      assert.ok(expires >= before + STATE_TTL_MS - 1000 && expires <= Date.now() + STATE_TTL_MS, setCookie)
    })

    it('behind a trusted proxy: redirect_uri from X-Forwarded-Host/Proto, and the cookie is Secure', async () => {
      const { location, setCookie } = await start({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'colony.example.test' })
      assert.equal(location.searchParams.get('redirect_uri'), 'https://colony.example.test/v1/auth/oauth/github/callback')
      assert.match(setCookie, /; secure(;|$)/)
    })

    it('an unknown provider is a JSON 404 oauth_provider_not_found, on both routes', async () => {
      for (const path of ['/v1/auth/oauth/gitlab', '/v1/auth/oauth/gitlab/callback?code=x&state=y']) {
        const res = await request('GET', `${base}${path}`)
        assert.equal(res.status, 404, path)
        assert.equal(res.body.error.code, 'oauth_provider_not_found', path)
      }
    })

    it('a provider without a client id is a 404 too', async () => {
      const bare = await startColony({ config: { oauth: { githubClientId: '' } } })
      try {
        for (const path of ['/v1/auth/oauth/github', '/v1/auth/oauth/github/callback?code=x&state=y']) {
          const res = await request('GET', `${bare.rt.urls.http}${path}`)
          assert.equal(res.status, 404, path)
          assert.equal(res.body.error.code, 'oauth_provider_not_found', path)
        }
      } finally {
        await bare.close()
      }
    })
  })

  describe('GET /v1/auth/oauth/{provider}/callback', () => {
    it('first login creates an account (no password) with a personal team; its JWT works', async () => {
      const params = await login()
      assert.deepEqual([...params.keys()].sort(), ['email', 'name', 'team_id', 'token', 'user_id'])
      assert.match(params.get('user_id') ?? '', /^usr-/)
      assert.equal(params.get('email'), `octo${gh.user.id}@example.test`)
      assert.equal(params.get('name'), gh.user.name)
      const teams = await as(params.get('token') ?? '', 'GET', `${base}/v1/teams`)
      assert.equal(teams.status, 200)
      assert.deepEqual(teams.body.map((t: any) => [t.id, t.role]), [[params.get('team_id'), 'owner']])
      assert.equal(colony.rt.identity.store.users.oauthUser('github', String(gh.user.id)), params.get('user_id'))
      const password = await request('POST', `${base}/v1/auth/login`, { email: params.get('email'), password: 'any password at all' })
      assert.equal(password.status, 401)
    })

    it('sends the code, redirect_uri and client credentials to the token URL (POST, Accept: application/json)', async () => {
      const s = await start()
      const back = await authorize(s.location)
      await callback(back, s.cookie)
      const t = gh.tokenRequests.at(-1)
      assert.ok(t)
      assert.equal(t.method, 'POST')
      assert.equal(t.accept, 'application/json')
      assert.equal(t.params.get('code'), back.searchParams.get('code'))
      assert.equal(t.params.get('redirect_uri'), `${base}/v1/auth/oauth/github/callback`)
      assert.equal(t.params.get('client_id'), gh.clientId)
      assert.equal(t.params.get('client_secret'), gh.clientSecret)
      const api = gh.apiRequests.slice(-2).map((r) => r.path).sort()
      assert.deepEqual(api, ['/user', '/user/emails'])
      assert.ok(gh.apiRequests.slice(-2).every((r) => /^Bearer gho_/.test(r.authorization ?? '')))
    })

    it('a second login finds the same account through the link', async () => {
      const first = await login()
      // A changed GitHub email does not make a new account: the link is by provider id.
      gh.user.emails = [{ email: `renamed-${gh.user.id}@example.test`, primary: true, verified: true }]
      const second = await login()
      assert.equal(second.get('user_id'), first.get('user_id'))
      assert.equal(second.get('team_id'), first.get('team_id'))
      assert.equal(second.get('email'), first.get('email'))
    })

    it('a name-less GitHub account is named after its login', async () => {
      gh.user.name = null
      assert.equal((await login()).get('name'), gh.user.login)
    })

    it('access_denied when the user cancels at the provider (and no code is exchanged)', async () => {
      gh.behaviour.deny = true
      const tokens = gh.tokenRequests.length
      await expectError('access_denied', login)
      assert.equal(gh.tokenRequests.length, tokens)
    })

    it('invalid_state without the cookie, with another state, a forged or a doubled one', async () => {
      const s = await start()
      const back = await authorize(s.location)
      const other = await start()
      const [nonce, expires] = s.cookie.slice(COOKIE.length + 1).split('.')
      const forged = `${COOKIE}=${nonce}.${Number(expires) + 3_600_000}.AAAA`
      const doubled = new URL(back)
      doubled.searchParams.append('state', back.searchParams.get('state') ?? '')
      const tokens = gh.tokenRequests.length
      await expectError('invalid_state', async () => (await callback(back)).params)
      await expectError('invalid_state', async () => (await callback(back, other.cookie)).params)
      await expectError('invalid_state', async () => (await callback(back, forged)).params)
      await expectError('invalid_state', async () => (await callback(doubled, s.cookie)).params)
      await expectError('invalid_state', async () => (await callback(back, `${COOKIE}=garbage`)).params)
      assert.equal(gh.tokenRequests.length, tokens)
      // The genuine pair still works (a refused attempt did not use anything up).
      assert.ok((await callback(back, s.cookie)).params.has('token'))
    })

    it('invalid_state once the state is older than oauth.stateTtlMs, even if the browser kept the cookie', async () => {
      const s = await start()
      const back = await authorize(s.location)
      clock.advance(STATE_TTL_MS + 1)
      await expectError('invalid_state', async () => (await callback(back, s.cookie)).params)
    })

    it('missing_code when the provider sends the state but no code', async () => {
      const s = await start()
      const url = new URL(`${base}/v1/auth/oauth/github/callback`)
      url.searchParams.set('state', s.location.searchParams.get('state') ?? '')
      await expectError('missing_code', async () => (await callback(url, s.cookie)).params)
    })

    const failures: Array<[string, Partial<FakeBehaviour>]> = [
      ['the token endpoint answers 500', { token: 'http_500' }],
      ['the token endpoint refuses the code', { token: 'refuse' }],
      ['the token endpoint answers broken JSON', { token: 'bad_json' }],
      ['the token endpoint answers form-encoded', { token: 'form' }],
      ['GET /user answers 500', { user: 'http_500' }],
      ['GET /user answers HTML', { user: 'bad_json' }],
      ['GET /user/emails answers 500', { emails: 'http_500' }],
    ]
    for (const [what, behaviour] of failures) {
      it(`exchange_failed when ${what}`, async () => {
        Object.assign(gh.behaviour, behaviour)
        await expectError('exchange_failed', login)
        assert.equal(colony.rt.identity.store.users.oauthUser('github', String(gh.user.id)), undefined)
      })
    }

    it('exchange_failed when the account has no verified primary email', async () => {
      gh.user.emails = [
        { email: `unverified-${gh.user.id}@example.test`, primary: true, verified: false },
        { email: `other-${gh.user.id}@example.test`, primary: false, verified: true },
      ]
      await expectError('exchange_failed', login)
      assert.equal(colony.rt.identity.store.users.findByEmail(`unverified-${gh.user.id}@example.test`), undefined)
    })

    it('email_taken when a password account owns the verified email; nothing is linked', async () => {
      const owner = await signup(base, 'Password Owner')
      gh.user.emails = [{ email: owner.email.toUpperCase(), primary: true, verified: true }]
      const users = colony.rt.identity.store.users.count()
      await expectError('email_taken', login)
      await expectError('email_taken', login)
      assert.equal(colony.rt.identity.store.users.oauthUser('github', String(gh.user.id)), undefined)
      assert.equal(colony.rt.identity.store.users.count(), users)
      const relogin = await request('POST', `${base}/v1/auth/login`, { email: owner.email, password: owner.password })
      assert.equal(relogin.body.user_id, owner.user_id)
    })

    it('a disabled account is refused with access_denied', async () => {
      const first = await login()
      colony.rt.identity.store.db.prepare("UPDATE users SET status = 'disabled' WHERE id = ?").run(first.get('user_id'))
      await expectError('access_denied', login)
    })

    it('someone who deleted every team they had gets a new personal team, like a password login', async () => {
      const first = await login()
      const del = await as(first.get('token') ?? '', 'DELETE', `${base}/v1/teams/${first.get('team_id')}`)
      assert.equal(del.status, 204)
      const again = await login()
      assert.equal(again.get('user_id'), first.get('user_id'))
      assert.notEqual(again.get('team_id'), first.get('team_id'))
      const teams = await as(again.get('token') ?? '', 'GET', `${base}/v1/teams`)
      assert.deepEqual(teams.body.map((t: any) => [t.id, t.role]), [[again.get('team_id'), 'owner']])
    })

    it('internal_error when the database fails mid-signup, and nothing is half-created', async () => {
      const db = colony.rt.identity.store.db
      const users = colony.rt.identity.store.users.count()
      db.exec("CREATE TEMP TRIGGER oauth_link_fails BEFORE INSERT ON oauth_identities BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
      try {
        await expectError('internal_error', login)
      } finally {
        db.exec('DROP TRIGGER oauth_link_fails')
      }
      assert.equal(colony.rt.identity.store.users.count(), users)
      assert.equal(colony.rt.identity.store.users.findByEmail(`octo${gh.user.id}@example.test`), undefined)
      assert.ok(colony.logs.some((l) => l.msg === 'oauth login failed' && l.level === 50))
      // The same GitHub user signs up fine once the database recovers.
      assert.ok((await login()).has('token'))
    })
  })

  // A suite of its own: mocha runs a suite's own tests before its child suites, and this one must come last.
  describe('logs', () => {
    it('no client secret, code, access token or JWT reached a log line (at level debug)', () => {
      assert.ok(gh.secrets.length > 10 && issued.length > 5)
      const text = colony.logs.map((l) => JSON.stringify(l)).join('\n')
      assert.ok(text.includes('oauth login refused') && text.includes('oauth signup'), 'the outcomes were logged')
      for (const secret of [gh.clientSecret, ...gh.secrets, ...issued]) {
        assert.ok(!text.includes(secret), `a secret reached the logs: ${secret.slice(0, 8)}...`)
      }
    })
  })
})

describe('GitHubClient: deadlines and unreachable providers', () => {
  let gh: FakeGitHub

  before(async () => { gh = await FakeGitHub.start() })
  after(async () => { await gh?.close() })

  function client (overrides: { tokenUrl?: string, timeoutMs?: number } = {}): GitHubClient {
    return new GitHubClient({
      clientId: gh.clientId,
      clientSecret: gh.clientSecret,
      authorizeUrl: `${gh.url}/login/oauth/authorize`,
      tokenUrl: overrides.tokenUrl ?? `${gh.url}/login/oauth/access_token`,
      apiUrl: gh.url,
      timeoutMs: overrides.timeoutMs ?? 5000,
    })
  }

  const failed = (pattern: RegExp) => (err: unknown): boolean =>
    err instanceof OAuthFailure && err.code === 'exchange_failed' && pattern.test(err.message)

  it('a token endpoint that never answers is exchange_failed after the deadline', async () => {
    gh.behaviour.token = 'hang'
    const attempt = client({ timeoutMs: 100 }).profile('code', 'http://127.0.0.1/cb')
    await gh.hangingRequests(1)
    await assert.rejects(attempt, failed(/no answer within 100 ms/))
  })

  it('an unreachable token endpoint is exchange_failed', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    await assert.rejects(client({ tokenUrl: `http://127.0.0.1:${port}/token` }).profile('code', 'http://127.0.0.1/cb'), failed(/ECONNREFUSED/))
  })
})
