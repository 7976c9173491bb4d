import { hash, randomBytes } from 'node:crypto'

/** API keys look like `col_` + 32 hex (16 random bytes); they are found by their SHA-256. */
export const API_KEY_PATTERN = /^col_[0-9a-f]{32}$/

export function newApiKey (): { key: string, hash: string, prefix: string } {
  const key = `col_${randomBytes(16).toString('hex')}`
  return { key, hash: hashApiKey(key), prefix: key.slice(0, 10) }
}

/** Runs for every API key the auth cache does not hold yet: the one-shot `crypto.hash` is about 4x cheaper than a `createHash` object. */
export function hashApiKey (key: string): string {
  return hash('sha256', key, 'hex')
}

/** Prefixed random ids, like Wrenn's `usr-...`: 16 characters of base32 (80 bits). */
export function newId (prefix: 'usr' | 'team' | 'key'): string {
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz'
  const bytes = randomBytes(16)
  let out = ''
  for (const b of bytes) out += alphabet[b & 31]
  return `${prefix}-${out}`
}

/** Team slugs: 12 hex characters, immutable, never reused. */
export function newSlug (): string {
  return randomBytes(6).toString('hex')
}
