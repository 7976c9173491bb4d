/**
 * Secrets at rest: a value is sealed with AES-256-GCM and stored as base64(nonce ‖ ciphertext ‖ tag), Wrenn's format
 * (Go's GCM Seal appends the tag to the ciphertext). A fresh 12-byte nonce per value, so the same secret twice never
 * looks the same in the database. Channels seal their configs with it, hosts a joined Colony's API key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { ColonyError } from '../errors.js'

const NONCE_BYTES = 12
const TAG_BYTES = 16

export class SecretBox {
  constructor (private readonly key: Buffer) {
    if (key.length !== 32) throw new ColonyError('config_invalid', 'an encryption key must be 32 bytes')
  }

  seal (plain: string): string {
    const nonce = randomBytes(NONCE_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64')
  }

  open (sealed: string): string {
    const raw = Buffer.from(sealed, 'base64')
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new ColonyError('internal_error', 'a sealed value is too short')
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, NONCE_BYTES))
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES))
    // A wrong key (or a changed row) fails here, on the tag: never a silently wrong secret.
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8')
  }

  sealAll (config: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, this.seal(v)]))
  }

  openAll (sealed: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(sealed).map(([k, v]) => [k, this.open(v)]))
  }
}
