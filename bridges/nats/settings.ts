import { fromSeed } from '@nats-io/nkeys'
import { ms, section, text, type SectionCheck, type SettingsOf } from '../../src/index.js'
import { parseBridgeRules, parseLabels } from './topic-map.js'

const optional = (options: Omit<Parameters<typeof text>[1] & object, 'optional'> = {}): ReturnType<typeof text> => text('', { optional: true, ...options })

/** The NATS bridge's settings: which lattice to join, how to authenticate, what to forward. */
export const natsSettings = section('nats', {
  /** Empty: the NATS bridge is off. One URL or several, comma-separated (a cluster's seed list). */
  url: optional({ pattern: /^((nats|tls):\/\/)?[^\s,]+(,((nats|tls):\/\/)?[^\s,]+)*$/, hint: 'nats://host:port (several: comma-separated)' }),
  lattice: text('default', { pattern: /^[A-Za-z0-9_-]{1,64}$/, hint: '1 to 64 characters of A-Z a-z 0-9 _ -' }),
  user: optional(),
  password: optional({ secret: true }),
  token: optional({ secret: true }),
  /** A user nkey seed (`SU...`), for nkey authentication. */
  nkeySeed: optional({ secret: true, pattern: /^SU[A-Z2-7]{56}$/, hint: 'a user nkey seed (SU followed by 56 characters)' }),
  /** A `.creds` file (JWT + seed), for decentralized NATS auth. */
  credsFile: optional({ pattern: /^[^\0]+$/, hint: 'a file path' }),
  /** The control interface's subject prefix (wasmCloud's `ctl_topic_prefix`). */
  ctlPrefix: text('wasmbus.ctl', { pattern: /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, hint: 'NATS subject tokens, e.g. wasmbus.ctl' }),
  /** The host's friendly name; empty: derived from the host id. */
  friendlyName: optional({ pattern: /^[^\0]{1,128}$/, hint: 'at most 128 characters' }),
  /** Host labels, `key=value,key=value`. */
  labels: optional(),
  heartbeatIntervalMs: ms(30_000, 100),
  /** Longest wait between connection attempts while NATS is unreachable. */
  reconnectMaxMs: ms(10_000, 100, 600_000),
  /** MQTT <-> NATS forwarding rules: `sensors/# <-> sensors.>; alerts/+ -> colony.alerts.*`. */
  bridge: optional(),
}, checkNats)
export type NatsSettings = SettingsOf<typeof natsSettings>

declare module '../../src/index.js' {
  interface ColonyConfig { nats: NatsSettings }
}

/** What one rule per setting cannot see: one way to authenticate, a seed's checksum, labels and rules that parse. */
function checkNats (...[nats, problems]: Parameters<SectionCheck>): void {
  const set = (key: string): boolean => typeof nats[key] === 'string' && nats[key] !== ''
  const inUrl = typeof nats.url === 'string' && /(^|\/\/|,)[^/@,\s]+@/.test(nats.url)
  const methods = [set('user') || set('password') ? 'user/password' : '', set('token') ? 'token' : '', set('nkeySeed') ? 'nkeySeed' : '',
    set('credsFile') ? 'credsFile' : '', inUrl ? 'credentials in nats.url' : ''].filter((m) => m !== '')
  if (methods.length > 1) problems.push(`nats: use one way to authenticate, not ${methods.join(' and ')}`)
  if (set('password') !== set('user')) problems.push('nats.user and nats.password go together')
  if (set('nkeySeed') && /^SU[A-Z2-7]{56}$/.test(nats.nkeySeed as string)) {
    // The pattern passed; the checksum catches a typo now rather than as refused connections later. Never echoed.
    try {
      if (!fromSeed(new TextEncoder().encode(nats.nkeySeed as string)).getPublicKey().startsWith('U')) throw new Error('not a user key')
    } catch {
      problems.push('nats.nkeySeed must be a user nkey seed, and this one does not decode (its checksum is wrong: a typo?)')
    }
  }
  for (const [key, parse] of [['labels', parseLabels], ['bridge', parseBridgeRules]] as const) {
    if (!set(key)) continue
    try {
      parse(nats[key] as string)
    } catch (err) {
      problems.push(`nats.${key}: ${(err as Error).message}`)
    }
  }
}
