import { createHmac, timingSafeEqual } from 'node:crypto'

/** The claims Colony puts in a user JWT (Wrenn's, plus the standard iat/exp in seconds). */
export interface Claims {
  sub: string
  team_id: string
  role: 'owner' | 'admin' | 'member'
  email: string
  name: string
  is_admin: boolean
  iat: number
  exp: number
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

/** Signs any claims as an HS256 JWT (user tokens here, host tokens in the hosts domain, each with its own key). */
export function signHs256 (claims: object, secret: Buffer): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url')
  const signature = createHmac('sha256', secret).update(`${HEADER}.${body}`).digest('base64url')
  return `${HEADER}.${body}.${signature}`
}

export type Hs256Check = { ok: true, claims: Record<string, unknown> } | { ok: false, reason: 'malformed' | 'signature' | 'expired' }

/**
 * Verifies an HS256 JWT: only `alg: HS256` is accepted (never `none`), the signature in constant time, then a
 * numeric `exp` (seconds). What the claims must hold beyond that is the caller's to check.
 */
export function verifyHs256 (token: string, secret: Buffer, nowMs: number): Hs256Check {
  const parts = token.split('.')
  if (parts.length !== 3) return { ok: false, reason: 'malformed' }
  const [header, body, signature] = parts as [string, string, string]
  let parsedHeader: unknown
  let claims: unknown
  try {
    parsedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'))
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  if ((parsedHeader as { alg?: unknown } | null)?.alg !== 'HS256') return { ok: false, reason: 'malformed' }
  const expected = createHmac('sha256', secret).update(`${header}.${body}`).digest()
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' }
  if (typeof claims !== 'object' || claims === null || typeof (claims as { exp?: unknown }).exp !== 'number') return { ok: false, reason: 'malformed' }
  if ((claims as { exp: number }).exp * 1000 <= nowMs) return { ok: false, reason: 'expired' }
  return { ok: true, claims: claims as Record<string, unknown> }
}

export function signJwt (claims: Claims, secret: Buffer): string {
  return signHs256(claims, secret)
}

export type JwtCheck = { ok: true, claims: Claims } | { ok: false, reason: 'malformed' | 'signature' | 'expired' }

/** A user JWT: a valid HS256 token (`verifyHs256`) whose claims name a user and a team. */
export function verifyJwt (token: string, secret: Buffer, nowMs: number): JwtCheck {
  const check = verifyHs256(token, secret, nowMs)
  if (!check.ok) return check
  if (typeof check.claims.sub !== 'string' || typeof check.claims.team_id !== 'string') return { ok: false, reason: 'malformed' }
  return { ok: true, claims: check.claims as unknown as Claims }
}
