import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer, fromSeed } from '@nats-io/nkeys'
import { ColonyError } from '../../src/index.js'

/** A host's identity on the lattice: an nkey server key pair, as wasmCloud hosts have (`N...`, 56 characters). */
export interface HostKey {
  /** The public key: the host id every subject and event uses. */
  id: string
}

const FILE = 'nats-host.nk'

/**
 * The host key, generated on the first start and kept in the data dir (mode 0600), so a restarted Colony is the
 * same host to the lattice.
 */
export function loadHostKey (dataDir: string): HostKey {
  const file = join(dataDir, FILE)
  let seed: string | undefined
  try {
    seed = readFileSync(file, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (seed === undefined) {
    seed = new TextDecoder().decode(createServer().getSeed())
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(file, `${seed}\n`, { mode: 0o600, flag: 'wx' })
    chmodSync(file, 0o600)
  }
  try {
    const pair = fromSeed(new TextEncoder().encode(seed))
    const id = pair.getPublicKey()
    if (!id.startsWith('N')) throw new Error('not a server key')
    return { id }
  } catch (err) {
    throw new ColonyError('config_invalid', `${file} does not hold a NATS server nkey seed (${(err as Error).message}); remove it to get a new host id`)
  }
}
