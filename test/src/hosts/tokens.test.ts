import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import { SecretBox } from '../../../src/auth/secret-box.js'
import { hashToken, hostKeys, newToken, signHostJwt, verifyHostJwt } from '../../../src/hosts/tokens.js'
import { signJwt, verifyJwt } from '../../../src/auth/jwt.js'

describe('hosts: tokens, host JWTs and sealed keys', () => {
  const secret = randomBytes(32)
  const keys = hostKeys(secret)
  const now = 1_700_000_000_000

  it('tokens are 64 hex; only their SHA-256 is kept', () => {
    const t = newToken()
    assert.match(t, /^[0-9a-f]{64}$/)
    assert.notEqual(newToken(), t)
    assert.match(hashToken(t), /^[0-9a-f]{64}$/)
    assert.notEqual(hashToken(t), t)
  })

  it('a host JWT verifies until it expires, only with its key, only as a host token', () => {
    const jwt = signHostJwt('host-1', keys.jwt, now, 60_000)
    assert.equal(verifyHostJwt(jwt, keys.jwt, now + 59_000), 'host-1')
    assert.equal(verifyHostJwt(jwt, keys.jwt, now + 60_000), undefined, 'expired')
    assert.equal(verifyHostJwt(jwt, hostKeys(randomBytes(32)).jwt, now), undefined, 'another Colony')
    // Neither kind passes for the other: different keys, and the claims differ (typ, team_id).
    assert.equal(verifyJwt(jwt, secret, now).ok, false)
    assert.equal(verifyJwt(jwt, keys.jwt, now).ok, false)
    const user = signJwt({ sub: 'usr-1', team_id: 't', role: 'owner', email: 'a@b', name: 'a', is_admin: true, iat: now / 1000, exp: now / 1000 + 60 }, secret)
    assert.equal(verifyHostJwt(user, keys.jwt, now), undefined)
    // alg "none" and a forged typ are refused.
    const body = Buffer.from(JSON.stringify({ typ: 'host', host_id: 'host-1', iat: 0, exp: now / 1000 + 60 })).toString('base64url')
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`
    assert.equal(verifyHostJwt(none, keys.jwt, now), undefined)
    const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')
    const userBody = Buffer.from(JSON.stringify({ typ: 'user', host_id: 'host-1', exp: now / 1000 + 60 })).toString('base64url')
    const signed = `${header}.${userBody}.${createHmac('sha256', keys.jwt).update(`${header}.${userBody}`).digest('base64url')}`
    assert.equal(verifyHostJwt(signed, keys.jwt, now), undefined)
    assert.equal(verifyHostJwt('not.a.jwt', keys.jwt, now), undefined)
  })

  it('a key sealed under the seal key opens with it only, and any change to it is detected', () => {
    const sealed = new SecretBox(keys.seal).seal('col_0123456789abcdef0123456789abcdef')
    assert.equal(sealed.includes('col_'), false)
    assert.equal(new SecretBox(keys.seal).open(sealed), 'col_0123456789abcdef0123456789abcdef')
    assert.throws(() => new SecretBox(keys.jwt).open(sealed), 'the JWT key is another key')
    const raw = Buffer.from(sealed, 'base64')
    raw[14] = (raw[14] as number) ^ 1
    assert.throws(() => new SecretBox(keys.seal).open(raw.toString('base64')))
  })
})
