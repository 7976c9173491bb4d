import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/** scrypt cost parameters: N = 2^15, r = 8 (32 MiB of memory per hash), p = 1. */
export interface ScryptCost { N: number, r: number, p: number }
export const DEFAULT_COST: ScryptCost = { N: 32768, r: 8, p: 1 }
const KEY_LENGTH = 32

function derive (password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { ...cost, maxmem: 256 * cost.N * cost.r }, (err, key) => {
      if (err) reject(err)
      else resolve(key)
    })
  })
}

/** `scrypt$N$r$p$salt$hash`: the parameters travel with the hash, so the cost can be raised later. */
export async function hashPassword (password: string, cost: ScryptCost = DEFAULT_COST): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, cost)
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${key.toString('base64')}`
}

export async function verifyPassword (password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = encoded.split('$')
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false
  const expected = Buffer.from(hash, 'base64')
  const key = await derive(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) })
  return key.length === expected.length && timingSafeEqual(key, expected)
}

/**
 * A hash of a random password, computed once: checking a login for an unknown email against it costs the same
 * time as for a real one, so response times do not reveal which emails have accounts.
 */
let decoy: Promise<string> | undefined
export function decoyHash (cost: ScryptCost = DEFAULT_COST): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'), cost)
  return decoy
}
