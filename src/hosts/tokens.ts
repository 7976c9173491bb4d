/**
 * The hosts domain's secrets. Registration and refresh tokens are 64 hex characters (32 random bytes), stored as
 * SHA-256 only. Host JWTs are HS256 with `typ: "host"`, signed with a key derived from Colony's own JWT secret
 * (`auth.jwtSecret` or `<data>/jwt.secret`), so a host token never verifies as a user token nor the other way round.
 * A joined Colony's API key is sealed with AES-256-GCM under a second derived key before it is stored.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export interface HostKeys { jwt: Buffer, seal: Buffer }

/** Two independent keys from the one secret: HMAC(secret, purpose). */
export function hostKeys (secret: Buffer): HostKeys {
  const derive = (purpose: string): Buffer => createHmac('sha256', secret).update(purpose).digest()
  return { jwt: derive('colony/hosts/jwt'), seal: derive('colony/hosts/seal') }
}

export const newToken = (): string => randomBytes(32).toString('hex')
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex')

export interface HostClaims { typ: 'host', host_id: string, iat: number, exp: number }

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

export function signHostJwt (hostId: string, key: Buffer, nowMs: number, ttlMs: number): string {
  const claims: HostClaims = { typ: 'host', host_id: hostId, iat: Math.floor(nowMs / 1000), exp: Math.floor((nowMs + ttlMs) / 1000) }
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url')
  return `${HEADER}.${body}.${createHmac('sha256', key).update(`${HEADER}.${body}`).digest('base64url')}`
}

/** The host id of a valid, unexpired host JWT, or undefined. Only HS256, signature compared in constant time. */
export function verifyHostJwt (token: string, key: Buffer, nowMs: number): string | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  const [header, body, signature] = parts as [string, string, string]
  try {
    if ((JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown }).alg !== 'HS256') return undefined
    const expected = createHmac('sha256', key).update(`${header}.${body}`).digest()
    const given = Buffer.from(signature, 'base64url')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<HostClaims>
    if (claims.typ !== 'host' || typeof claims.host_id !== 'string' || typeof claims.exp !== 'number') return undefined
    return claims.exp * 1000 > nowMs ? claims.host_id : undefined
  } catch {
    return undefined
  }
}

export function seal (plain: string, key: Buffer): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.')
}

export function unseal (sealed: string, key: Buffer): string {
  const [iv, tag, data] = sealed.split('.').map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer]
  const decipher = createDecipheriv('aes-256-gcm', key, iv)
  decipher.setAuthTag(tag)
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8')
}
