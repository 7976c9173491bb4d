import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { ColonyError } from './errors.js'
import { defaultsOf, show, type ConfigInput, type ConfigOf, type Rule, type Section } from './settings.js'
import { httpSettings } from './http/settings.js'
import { mqttSettings } from './broker/settings.js'
import { dataSettings, storeSettings } from './store/settings.js'
import { authSettings, oauthSettings } from './auth/settings.js'
import { actorSettings, supervisorSettings } from './actor/settings.js'
import { wasmSettings } from './wasm/settings.js'
import { logSettings } from './log-settings.js'
import { workerSettings } from './workers/settings.js'
import { capsuleSettings } from './capsules/settings.js'
import { channelSettings } from './channels/settings.js'
import { hostSettings } from './hosts/settings.js'

export type { ConfigInput } from './settings.js'
export type { AuthMode } from './auth/settings.js'
export { STRATEGIES, type Strategy } from './actor/settings.js'
export type { LogLevel } from './log-settings.js'

/** The kernel's own sections; bridges and actor kinds bring theirs (`src/assembly.ts` puts them together). */
export const KERNEL_SETTINGS = [
  httpSettings, mqttSettings, dataSettings, storeSettings, authSettings, oauthSettings, actorSettings, supervisorSettings, wasmSettings,
  workerSettings, capsuleSettings, channelSettings, hostSettings, logSettings,
] as const

/**
 * Every setting Colony reads, one property per section. The kernel's sections are listed here; a bridge or actor
 * kind adds its own section's type next to its declaration (`declare module` on `src/index.js`), so each setting
 * is declared once, by its owner. The runtime reads two settings it does not own, by name: `ws.path` (to print the
 * stream's URL) and `haMap.discoveryPrefix` (the ACL guards discovery topics).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged with the sections bridges and kinds declare
export interface ColonyConfig extends ConfigOf<typeof KERNEL_SETTINGS> {}

export interface LoadOptions {
  /** Path of a JSON config file (`--config`). */
  file?: string
  /** Environment to read `COLONY_<SECTION>_<KEY>` from; pass `{}` to ignore the process environment. */
  env?: NodeJS.ProcessEnv
  /** Highest precedence: CLI flags, or a test's overrides. */
  overrides?: ConfigInput
}

const DEFAULTS_URL = new URL('../../config/default.json', import.meta.url)

/** `config/default.json`: the declared defaults written out for people to read and copy (a test keeps them equal). */
export function readDefaults (): ConfigInput {
  return JSON.parse(readFileSync(DEFAULTS_URL, 'utf8')) as ConfigInput
}

/**
 * defaults < file < env < overrides, for the given sections; every problem is collected and reported in one
 * `config_invalid` error.
 */
export function loadConfig (sections: readonly Section[], options: LoadOptions = {}): Readonly<ColonyConfig> {
  const schema = rulesOf(sections)
  const problems: string[] = []
  const merged = defaultsOf(sections)
  if (options.file !== undefined) apply(schema, merged, readFile(options.file, problems), `file ${options.file}`, problems)
  apply(schema, merged, fromEnv(schema, options.env ?? process.env, problems), 'environment', problems)
  if (options.overrides) apply(schema, merged, options.overrides, 'flags', problems)
  validate(sections, merged, problems)
  if (problems.length > 0) {
    throw new ColonyError('config_invalid', `Configuration is invalid:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    })
  }
  return deepFreeze(merged) as unknown as Readonly<ColonyConfig>
}

type Schema = Map<string, Record<string, Rule>>

function rulesOf (sections: readonly Section[]): Schema {
  const schema: Schema = new Map()
  for (const s of sections) {
    if (schema.has(s.name)) throw new Error(`two owners declare the config section "${s.name}"`)
    schema.set(s.name, s.rules)
  }
  return schema
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

function fromEnv (schema: Schema, env: NodeJS.ProcessEnv, problems: string[]): ConfigInput {
  const names = new Map<string, [string, string, Rule]>()
  for (const [section, rules] of schema) {
    for (const [key, rule] of Object.entries(rules)) names.set(envName(section, key), [section, key, rule])
  }
  const out: ConfigInput = {}
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('COLONY_') || raw === undefined) continue
    const target = names.get(name)
    if (target === undefined) {
      problems.push(`unknown environment variable ${name}`)
      continue
    }
    const [section, key, rule] = target
    ;(out[section] ??= {})[key] = coerce(raw, rule)
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

function apply (schema: Schema, target: ConfigInput, input: ConfigInput, origin: string, problems: string[]): void {
  for (const [section, values] of Object.entries(input)) {
    // A Map lookup: a "__proto__" or "constructor" section must not reach Object.prototype.
    const rules = schema.get(section)
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

/** Every setting against its rule, then each section's own checks across settings (which see every section). */
function validate (sections: readonly Section[], config: ConfigInput, problems: string[]): void {
  for (const s of sections) {
    for (const [key, rule] of Object.entries(s.rules)) {
      const problem = check(config[s.name]?.[key], rule)
      if (problem !== undefined) problems.push(`${s.name}.${key} ${problem}`)
    }
  }
  for (const s of sections) s.check?.(config[s.name] ?? {}, problems, config)
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
export function ruleFor (sections: readonly Section[], section: string, key: string): Rule | undefined {
  const rules = sections.find((s) => s.name === section)?.rules
  return rules !== undefined && Object.hasOwn(rules, key) ? rules[key] : undefined
}
