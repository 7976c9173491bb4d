/**
 * The channel key: every channel config value is sealed with it (`SecretBox`, AES-256-GCM, Wrenn's format).
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ColonyError } from '../errors.js'

export { SecretBox } from '../auth/secret-box.js'

/** The key: from config (64 hex), or generated once into `<dataDir>/channels.key` (0600) and read from there. */
export function channelKey (configured: string, dataDir: string): Buffer {
  if (configured !== '') return Buffer.from(configured, 'hex')
  const file = join(dataDir, 'channels.key')
  try {
    const hex = readFileSync(file, 'utf8').trim()
    if (/^[0-9a-fA-F]{64}$/.test(hex)) return Buffer.from(hex, 'hex')
    throw new ColonyError('data_dir_unusable', `${file} does not hold a 32-byte hex key; channels sealed with it cannot be read without it`)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const key = randomBytes(32)
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' })
  return key
}
