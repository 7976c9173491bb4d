/**
 * The hosts domain's secrets. Registration and refresh tokens are 64 hex characters (32 random bytes), stored as
 * SHA-256 only. Host JWTs are HS256 with `typ: "host"`, signed with a key derived from Colony's own JWT secret
 * (`auth.jwtSecret` or `<data>/jwt.secret`), so a host token never verifies as a user token nor the other way round.
 * A joined Colony's API key is sealed (`SecretBox`, AES-256-GCM) under a second derived key before it is stored.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { signHs256, verifyHs256 } from '../auth/jwt.js'

export interface HostKeys { jwt: Buffer, seal: Buffer }

/** Two independent keys from the one secret: HMAC(secret, purpose). */
export function hostKeys (secret: Buffer): HostKeys {
  const derive = (purpose: string): Buffer => createHmac('sha256', secret).update(purpose).digest()
  return { jwt: derive('colony/hosts/jwt'), seal: derive('colony/hosts/seal') }
}

export const newToken = (): string => randomBytes(32).toString('hex')
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex')

export interface HostClaims { typ: 'host', host_id: string, iat: number, exp: number }

export function signHostJwt (hostId: string, key: Buffer, nowMs: number, ttlMs: number): string {
  const claims: HostClaims = { typ: 'host', host_id: hostId, iat: Math.floor(nowMs / 1000), exp: Math.floor((nowMs + ttlMs) / 1000) }
  return signHs256(claims, key)
}

/** The host id of a valid, unexpired host JWT (HS256 under the hosts' key, `typ: "host"`), or undefined. */
export function verifyHostJwt (token: string, key: Buffer, nowMs: number): string | undefined {
  const check = verifyHs256(token, key, nowMs)
  if (!check.ok || check.claims.typ !== 'host' || typeof check.claims.host_id !== 'string') return undefined
  return check.claims.host_id
}
