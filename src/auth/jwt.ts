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

export function signJwt (claims: Claims, secret: Buffer): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url')
  const signature = createHmac('sha256', secret).update(`${HEADER}.${body}`).digest('base64url')
  return `${HEADER}.${body}.${signature}`
}

export type JwtCheck = { ok: true, claims: Claims } | { ok: false, reason: 'malformed' | 'signature' | 'expired' }

/** Verifies an HS256 JWT: only `alg: HS256` is accepted (never `none`), the signature in constant time, then `exp`. */
export function verifyJwt (token: string, secret: Buffer, nowMs: number): JwtCheck {
  const parts = token.split('.')
  if (parts.length !== 3) return { ok: false, reason: 'malformed' }
  const [header, body, signature] = parts as [string, string, string]
  let parsedHeader: unknown
  let claims: Partial<Claims>
  try {
    parsedHeader = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Claims>
  } catch {
    return { ok: false, reason: 'malformed' }
  }
  if ((parsedHeader as { alg?: unknown } | null)?.alg !== 'HS256') return { ok: false, reason: 'malformed' }
  const expected = createHmac('sha256', secret).update(`${header}.${body}`).digest()
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' }
  if (typeof claims.sub !== 'string' || typeof claims.team_id !== 'string' || typeof claims.exp !== 'number') {
    return { ok: false, reason: 'malformed' }
  }
  if (claims.exp * 1000 <= nowMs) return { ok: false, reason: 'expired' }
  return { ok: true, claims: claims as Claims }
}
