import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { request } from '../helpers/http.js'
import { signup } from '../helpers/identity.js'

/** Credentials a client might send everywhere by mistake: garbage, an unknown key, a bad JWT, a wrong scheme. */
const WRONG: Array<Record<string, string>> = [
  { 'x-api-key': 'hello' },
  { 'x-api-key': `col_${randomBytes(16).toString('hex')}` },
  { authorization: 'Bearer not-a-jwt' },
  { authorization: 'Bearer aaaa.bbbb.cccc' },
  { authorization: 'Basic YWRtaW46YWRtaW4=' },
]

describe('REST: public routes ignore credentials; a value not shaped like a key is an "invalid API key"', () => {
  for (const mode of ['loopback', 'required'] as const) {
    describe(`auth.mode ${mode}`, () => {
      let colony: TestColony
      let base: string
      before(async () => {
        colony = await startColony({ config: { auth: { mode } } })
        base = colony.rt.urls.http
      })
      after(async () => { await colony?.close() })

      it('health, the dashboard\'s files, signup, login and the OAuth routes answer as without credentials', async () => {
        const account = await signup(base)
        for (const headers of WRONG) {
          const what = JSON.stringify(headers)
          const health = await request('GET', `${base}/api/health`, undefined, headers)
          assert.equal(health.status, 200, what)
          assert.equal(health.body.status, 'ok')
          assert.equal((await request('HEAD', `${base}/api/health`, undefined, headers)).status, 200, what)
          const page = await request('GET', `${base}/`, undefined, headers)
          assert.equal(page.status, 200, what)
          assert.match(page.headers.get('content-type') ?? '', /text\/html/)
          assert.equal((await request('GET', `${base}/dashboard/app.js`, undefined, headers)).status, 200, what)
          const login = await request('POST', `${base}/v1/auth/login`, { email: account.email, password: account.password }, headers)
          assert.equal(login.status, 200, what)
          assert.equal(typeof login.body.token, 'string')
          const fresh = await request('POST', `${base}/v1/auth/signup`,
            { email: `public-${randomBytes(4).toString('hex')}@example.com`, password: 'long enough 1', name: 'P' }, headers)
          assert.equal(fresh.status, 201, what)
          // GitHub login is not configured here: the route's own 404, not a 401 for the stray credential.
          const oauth = await request('GET', `${base}/v1/auth/oauth/github`, undefined, headers)
          assert.equal(oauth.status, 404, what)
          assert.equal(oauth.body.error.code, 'oauth_provider_not_found')
        }
      })

      it('on a protected route the same credentials are 401; X-API-Key: hello says "invalid API key"', async () => {
        for (const headers of WRONG) {
          const res = await request('GET', `${base}/api/actors`, undefined, headers)
          assert.equal(res.status, 401, JSON.stringify(headers))
          assert.equal(res.body.error.code, 'unauthorized')
          assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/)
        }
        for (const key of ['hello', `col_${'0'.repeat(32)}`, 'col_short']) {
          const res = await request('GET', `${base}/api/actors`, undefined, { 'x-api-key': key })
          assert.equal(res.body.error.message, 'invalid API key', key)
        }
        const badJwt = await request('GET', `${base}/api/actors`, undefined, { authorization: 'Bearer aaaa.bbbb.cccc' })
        assert.equal(badJwt.body.error.message, 'invalid token')
      })
    })
  }
})
