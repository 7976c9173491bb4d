import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { ColonyError } from './errors.js'
import { fromSeed } from '@nats-io/nkeys'
import { parseBridgeRules, parseLabels } from './topic-map.js'

/** Every setting Colony reads; `config/default.json` holds the defaults and the README a table of them. */
export interface ColonyConfig {
  http: {
    host: string
    port: number
    bodyLimitBytes: number
    trustProxy: boolean
    /** Comma-separated IP addresses of the reverse proxy: only these peers may send X-Forwarded-* (with trustProxy). */
    proxyAddresses: string
    /** A request's headers must arrive within this (from the connection, or the end of the previous response). */
    headersTimeoutMs: number
    /** A request's body must arrive within this, counted from the end of its headers. */
    bodyTimeoutMs: number
  }
  mqtt: { host: string, port: number, wsPath: string, maxPacketBytes: number, maxInflightPublishes: number, persistRetained: boolean }
  data: { dir: string }
  store: { file: string, synchronous: 'full' | 'normal' }
  auth: {
    mode: AuthMode
    jwtSecret: string
    jwtTtlMs: number
    scryptN: number
    loginMaxPerAccount: number
    loginMaxPerAddress: number
    loginWindowMs: number
  }
  oauth: {
    frontendUrl: string
    stateTtlMs: number
    githubClientId: string
    githubClientSecret: string
    githubAuthorizeUrl: string
    githubTokenUrl: string
    githubApiUrl: string
  }
  actors: { heartbeatIntervalMs: number, mailboxCapacity: number, maxActors: number }
  supervisor: { strategy: Strategy, maxRestarts: number, restartWindowMs: number }
  wasm: {
    maxComponentBytes: number
    callTimeoutMs: number
    startTimeoutMs: number
    memoryLimitMb: number
    hostCallTimeoutMs: number
    maxQueuedCalls: number
  }
  monitor: { staleWarningMs: number, staleCriticalMs: number }
  ws: { path: string, flushIntervalMs: number, maxQueuedMessages: number, maxQueuedBytes: number, slowClientTimeoutMs: number, overflow: 'drop' | 'close' }
  haMap: { discoveryPrefix: string, debounceMs: number, maxEntities: number }
  nats: {
    /** Empty: the NATS bridge is off. One URL or several, comma-separated (a cluster's seed list). */
    url: string
    lattice: string
    user: string
    password: string
    token: string
    /** A user nkey seed (`SU...`), for nkey authentication. */
    nkeySeed: string
    /** A `.creds` file (JWT + seed), for decentralized NATS auth. */
    credsFile: string
    /** The control interface's subject prefix (wasmCloud's `ctl_topic_prefix`). */
    ctlPrefix: string
    /** The host's friendly name; empty: derived from the host id. */
    friendlyName: string
    /** Host labels, `key=value,key=value`. */
    labels: string
    heartbeatIntervalMs: number
    /** Longest wait between connection attempts while NATS is unreachable. */
    reconnectMaxMs: number
    /** MQTT <-> NATS forwarding rules: `sensors/# <-> sensors.>; alerts/+ -> colony.alerts.*`. */
    bridge: string
  }
  log: { level: LogLevel }
}

/**
 * `loopback`: requests without credentials act as the local admin while every listener is on loopback (like
 * Mosquitto 2), and need credentials otherwise; `required`: always need credentials; `off`: never checked, and
 * then only loopback addresses may be bound.
 */
export type AuthMode = 'loopback' | 'required' | 'off'
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one'
export const STRATEGIES: readonly Strategy[] = ['one_for_one', 'one_for_all', 'rest_for_one']
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

type Rule =
  | { type: 'int', min: number, max: number }
  | { type: 'string', pattern?: RegExp, hint?: string, optional?: boolean, secret?: boolean }
  | { type: 'bool' }
  | { type: 'enum', values: readonly string[] }

const port: Rule = { type: 'int', min: 0, max: 65535 }
const ms = (min: number, max = 86_400_000): Rule => ({ type: 'int', min, max })
const host: Rule = { type: 'string', pattern: /^[A-Za-z0-9.:-]+$/, hint: 'an IP address or host name' }
const path: Rule = { type: 'string', pattern: /^\/[A-Za-z0-9/_-]*$/, hint: 'a URL path starting with /' }
const url: Rule = { type: 'string', pattern: /^https?:\/\/[^\s]+$/, hint: 'an http(s) URL' }
const secret: Rule = { type: 'string', optional: true, secret: true, pattern: /^(.{32,})?$/, hint: 'empty (generated) or at least 32 characters' }

const SCHEMA: { [S in keyof ColonyConfig]: { [K in keyof ColonyConfig[S]]: Rule } } = {
  http: { host, port, bodyLimitBytes: { type: 'int', min: 1024, max: 1 << 30 }, trustProxy: { type: 'bool' }, proxyAddresses: { type: 'string' },
    headersTimeoutMs: ms(100, 600_000), bodyTimeoutMs: ms(100, 3_600_000) },
  mqtt: {
    host,
    port,
    wsPath: path,
    maxPacketBytes: { type: 'int', min: 1024, max: 256 * 1024 * 1024 },
    maxInflightPublishes: { type: 'int', min: 10, max: 1_000_000 },
    persistRetained: { type: 'bool' },
  },
  data: { dir: { type: 'string', pattern: /^[^\0]+$/, hint: 'a directory path' } },
  store: {
    file: { type: 'string', pattern: /^(:memory:|[^\0/]+)$/, hint: 'a file name inside the data dir, or :memory:' },
    synchronous: { type: 'enum', values: ['full', 'normal'] },
  },
  auth: {
    mode: { type: 'enum', values: ['loopback', 'required', 'off'] },
    jwtSecret: secret,
    jwtTtlMs: ms(60_000, 30 * 86_400_000),
    scryptN: { type: 'int', min: 1024, max: 1 << 20 },
    loginMaxPerAccount: { type: 'int', min: 1, max: 1_000_000 },
    loginMaxPerAddress: { type: 'int', min: 1, max: 1_000_000 },
    loginWindowMs: ms(1000),
  },
  oauth: {
    frontendUrl: url,
    stateTtlMs: ms(10_000, 3_600_000),
    githubClientId: { type: 'string', optional: true },
    githubClientSecret: { type: 'string', optional: true, secret: true },
    githubAuthorizeUrl: url,
    githubTokenUrl: url,
    githubApiUrl: url,
  },
  actors: {
    heartbeatIntervalMs: ms(10),
    mailboxCapacity: { type: 'int', min: 1, max: 10_000_000 },
    maxActors: { type: 'int', min: 1, max: 10_000_000 },
  },
  supervisor: {
    strategy: { type: 'enum', values: STRATEGIES },
    maxRestarts: { type: 'int', min: 0, max: 1_000_000 },
    restartWindowMs: ms(1),
  },
  wasm: {
    maxComponentBytes: { type: 'int', min: 1024, max: 1 << 30 },
    callTimeoutMs: ms(10, 3_600_000),
    startTimeoutMs: ms(100, 600_000),
    memoryLimitMb: { type: 'int', min: 1, max: 4096 },
    hostCallTimeoutMs: ms(10, 600_000),
    maxQueuedCalls: { type: 'int', min: 0, max: 1_000_000 },
  },
  monitor: { staleWarningMs: ms(1), staleCriticalMs: ms(1) },
  ws: {
    path,
    flushIntervalMs: { type: 'int', min: 0, max: 10_000 },
    maxQueuedMessages: { type: 'int', min: 1, max: 10_000_000 },
    maxQueuedBytes: { type: 'int', min: 4096, max: 1 << 30 },
    slowClientTimeoutMs: ms(100, 3_600_000),
    overflow: { type: 'enum', values: ['drop', 'close'] },
  },
  haMap: {
    discoveryPrefix: { type: 'string', pattern: /^[A-Za-z0-9_-]+$/, hint: 'one MQTT topic level' },
    debounceMs: { type: 'int', min: 0, max: 60_000 },
    maxEntities: { type: 'int', min: 1, max: 10_000_000 },
  },
  nats: {
    url: { type: 'string', optional: true, pattern: /^((nats|tls):\/\/)?[^\s,]+(,((nats|tls):\/\/)?[^\s,]+)*$/, hint: 'nats://host:port (several: comma-separated)' },
    lattice: { type: 'string', pattern: /^[A-Za-z0-9_-]{1,64}$/, hint: '1 to 64 characters of A-Z a-z 0-9 _ -' },
    user: { type: 'string', optional: true },
    password: { type: 'string', optional: true, secret: true },
    token: { type: 'string', optional: true, secret: true },
    nkeySeed: { type: 'string', optional: true, secret: true, pattern: /^SU[A-Z2-7]{56}$/, hint: 'a user nkey seed (SU followed by 56 characters)' },
    credsFile: { type: 'string', optional: true, pattern: /^[^\0]+$/, hint: 'a file path' },
    ctlPrefix: { type: 'string', pattern: /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, hint: 'NATS subject tokens, e.g. wasmbus.ctl' },
    friendlyName: { type: 'string', optional: true, pattern: /^[^\0]{1,128}$/, hint: 'at most 128 characters' },
    labels: { type: 'string', optional: true },
    heartbeatIntervalMs: ms(100),
    reconnectMaxMs: ms(100, 600_000),
    bridge: { type: 'string', optional: true },
  },
  log: { level: { type: 'enum', values: LOG_LEVELS } },
}

/** A partial config, as a file, env var or flag provides it. Unknown keys are reported, not ignored. */
export type ConfigInput = { [section: string]: { [key: string]: unknown } }

export interface LoadOptions {
  /** Path of a JSON config file (`--config`). */
  file?: string
  /** Environment to read `COLONY_<SECTION>_<KEY>` from; pass `{}` to ignore the process environment. */
  env?: NodeJS.ProcessEnv
  /** Highest precedence: CLI flags, or a test's overrides. */
  overrides?: ConfigInput
}

const DEFAULTS_URL = new URL('../../config/default.json', import.meta.url)

export function readDefaults (): ConfigInput {
  return JSON.parse(readFileSync(DEFAULTS_URL, 'utf8')) as ConfigInput
}

/** defaults < file < env < overrides; every problem is collected and reported in one `config_invalid` error. */
export function loadConfig (options: LoadOptions = {}): Readonly<ColonyConfig> {
  const problems: string[] = []
  const merged = readDefaults()
  if (options.file !== undefined) apply(merged, readFile(options.file, problems), `file ${options.file}`, problems)
  apply(merged, fromEnv(options.env ?? process.env, problems), 'environment', problems)
  if (options.overrides) apply(merged, options.overrides, 'flags', problems)
  validate(merged, problems)
  if (problems.length > 0) {
    throw new ColonyError('config_invalid', `Configuration is invalid:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    })
  }
  return deepFreeze(merged) as unknown as Readonly<ColonyConfig>
}

function readFile (file: string, problems: string[]): ConfigInput {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    problems.push(`cannot read config file ${file}: ${(err as Error).message}`)
    return {}
  }
  try {
    const parsed: unknown = JSON.parse(text)
    if (!isPlainObject(parsed)) {
      problems.push(`config file ${file} must hold a JSON object`)
      return {}
    }
    return parsed as ConfigInput
  } catch (err) {
    problems.push(`config file ${file} is not valid JSON: ${(err as Error).message}`)
    return {}
  }
}

export function envName (section: string, key: string): string {
  const snake = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
  return `COLONY_${snake(section)}_${snake(key)}`
}

function fromEnv (env: NodeJS.ProcessEnv, problems: string[]): ConfigInput {
  const names = new Map<string, [string, string]>()
  for (const [section, keys] of Object.entries(SCHEMA)) {
    for (const key of Object.keys(keys)) names.set(envName(section, key), [section, key])
  }
  const out: ConfigInput = {}
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('COLONY_') || raw === undefined) continue
    const target = names.get(name)
    if (target === undefined) {
      problems.push(`unknown environment variable ${name}`)
      continue
    }
    const [section, key] = target
    const rule = (SCHEMA as Record<string, Record<string, Rule>>)[section]?.[key]
    ;(out[section] ??= {})[key] = rule === undefined ? raw : coerce(raw, rule)
  }
  return out
}

/** Env vars and flags are strings; turn them into the type the rule wants, or leave them for validate to reject. */
export function coerce (raw: string, rule: Rule): unknown {
  if (rule.type === 'int' && /^-?\d+$/.test(raw.trim())) return Number(raw.trim())
  if (rule.type === 'bool') {
    if (/^(true|1|yes)$/i.test(raw)) return true
    if (/^(false|0|no)$/i.test(raw)) return false
  }
  return raw
}

function apply (target: ConfigInput, input: ConfigInput, origin: string, problems: string[]): void {
  for (const [section, values] of Object.entries(input)) {
    // Own properties only: a "__proto__" or "constructor" section must not reach Object.prototype.
    const rules = Object.hasOwn(SCHEMA, section) ? (SCHEMA as Record<string, Record<string, Rule>>)[section] : undefined
    if (rules === undefined) {
      problems.push(`${origin}: unknown section "${section}"`)
      continue
    }
    if (!isPlainObject(values)) {
      problems.push(`${origin}: section "${section}" must be an object`)
      continue
    }
    for (const [key, value] of Object.entries(values)) {
      if (!Object.hasOwn(rules, key)) {
        problems.push(`${origin}: unknown setting "${section}.${key}"`)
        continue
      }
      ;(target[section] ??= {})[key] = value
    }
  }
}

function validate (config: ConfigInput, problems: string[]): void {
  for (const [section, rules] of Object.entries(SCHEMA as Record<string, Record<string, Rule>>)) {
    for (const [key, rule] of Object.entries(rules)) {
      const problem = check(config[section]?.[key], rule)
      if (problem !== undefined) problems.push(`${section}.${key} ${problem}`)
    }
  }
  const monitor = config.monitor
  if (monitor !== undefined && typeof monitor.staleWarningMs === 'number' && typeof monitor.staleCriticalMs === 'number' &&
      monitor.staleCriticalMs <= monitor.staleWarningMs) {
    problems.push('monitor.staleCriticalMs must be greater than monitor.staleWarningMs')
  }
  const n = config.auth?.scryptN
  if (typeof n === 'number' && Number.isInteger(n) && (n & (n - 1)) !== 0) problems.push(`auth.scryptN must be a power of two (got ${n})`)
  if (config.mqtt?.wsPath !== undefined && config.mqtt.wsPath === config.ws?.path) {
    problems.push('mqtt.wsPath and ws.path must differ')
  }
  const proxies = config.http?.proxyAddresses
  if (typeof proxies === 'string' && proxies !== '') {
    const bad = proxies.split(',').map((a) => a.trim()).filter((a) => isIP(a) === 0)
    if (bad.length > 0) problems.push(`http.proxyAddresses must be comma-separated IP addresses (not ${bad.map(show).join(', ')})`)
  }
  validateNats(config.nats ?? {}, problems)
}

function validateNats (nats: Record<string, unknown>, problems: string[]): void {
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

function check (value: unknown, rule: Rule): string | undefined {
  switch (rule.type) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) return `must be an integer (got ${show(value)})`
      if (value < rule.min || value > rule.max) return `must be between ${rule.min} and ${rule.max} (got ${value})`
      return undefined
    case 'bool':
      return typeof value === 'boolean' ? undefined : `must be true or false (got ${show(value)})`
    case 'enum':
      return typeof value === 'string' && rule.values.includes(value)
        ? undefined
        : `must be one of ${rule.values.join(', ')} (got ${show(value)})`
    case 'string':
      if (typeof value !== 'string') return `must be a string (got ${show(value)})`
      if (value.length === 0) return rule.optional === true ? undefined : 'must be a non-empty string'
      if (rule.pattern !== undefined && !rule.pattern.test(value)) {
        // A secret is never echoed, not even in a configuration error.
        return `must be ${rule.hint ?? 'valid'}${rule.secret === true ? '' : ` (got ${show(value)})`}`
      }
      return undefined
  }
}

function show (value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/** Loopback means the world cannot connect: 127.0.0.0/8, ::1, localhost. */
export function isLoopback (address: string): boolean {
  if (address === 'localhost') return true
  if (isIP(address) === 4) return address.startsWith('127.')
  if (isIP(address) === 6) {
    // The URL parser canonicalises IPv6 (0:0:0:0:0:0:0:1 -> ::1, ::ffff:7f00:1 -> ::ffff:7f00:1).
    const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1)
    return canonical === '::1' || /^::ffff:7f[0-9a-f]{2}:/.test(canonical)
  }
  return false
}

/** The rule a flag's string value is coerced with (used by the CLI). */
export function ruleFor (section: string, key: string): Rule | undefined {
  return (SCHEMA as Record<string, Record<string, Rule>>)[section]?.[key]
}
