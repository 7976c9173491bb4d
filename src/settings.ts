/**
 * How an owner (a kernel part, a bridge, an actor kind) declares its settings: one object per config section
 * that names each setting's rule and default. The section's TypeScript type is derived from it (`SettingsOf`),
 * the loader (`src/config.ts`) validates with it, and `config/default.json` is checked against it by a test.
 *
 * @example
 * export const monitorSettings = section('monitor', {
 *   staleWarningMs: int(60_000, { min: 1, max: 86_400_000 }),
 * })
 * type MonitorSettings = SettingsOf<typeof monitorSettings> // { staleWarningMs: number }
 */

export interface IntRule { readonly type: 'int', readonly min: number, readonly max: number, readonly default: number }
export interface BoolRule { readonly type: 'bool', readonly default: boolean }
export interface EnumRule<V extends string = string> { readonly type: 'enum', readonly values: readonly V[], readonly default: V }
export interface StringRule {
  readonly type: 'string'
  readonly default: string
  readonly pattern?: RegExp
  /** What the pattern means, for the error message ("must be <hint>"). */
  readonly hint?: string
  /** Empty is allowed (and means "not set"). */
  readonly optional?: boolean
  /** Never echoed, not even in a configuration error. */
  readonly secret?: boolean
}
export type Rule = IntRule | BoolRule | EnumRule | StringRule

export const int = (defaultValue: number, range: { min: number, max: number }): IntRule =>
  ({ type: 'int', default: defaultValue, ...range })
export const bool = (defaultValue: boolean): BoolRule => ({ type: 'bool', default: defaultValue })
export const oneOf = <const V extends string>(values: readonly V[], defaultValue: NoInfer<V>): EnumRule<V> =>
  ({ type: 'enum', values, default: defaultValue })
export const text = (defaultValue: string, options: Omit<StringRule, 'type' | 'default'> = {}): StringRule =>
  ({ type: 'string', default: defaultValue, ...options })
/** Milliseconds between `min` and `max` (a day unless given). */
export const ms = (defaultValue: number, min: number, max = 86_400_000): IntRule => int(defaultValue, { min, max })

/** A partial config, as a file, env var or flag provides it; also what a section check reads. */
export type ConfigInput = { [section: string]: { [key: string]: unknown } }

/**
 * A check that spans settings: runs after every setting passed or failed its own rule, so it sees values of any
 * type (test before use) and adds to `problems` in the loader's words. `config` holds every section.
 */
export type SectionCheck = (values: Record<string, unknown>, problems: string[], config: ConfigInput) => void

export interface Section<Name extends string = string, Rules extends Record<string, Rule> = Record<string, Rule>> {
  readonly name: Name
  readonly rules: Rules
  readonly check?: SectionCheck
}

export function section<const Name extends string, const Rules extends Record<string, Rule>> (
  name: Name, rules: Rules, check?: SectionCheck,
): Section<Name, Rules> {
  return { name, rules, ...(check !== undefined && { check }) }
}

type ValueOf<R extends Rule> = R extends EnumRule<infer V> ? V : R extends IntRule ? number : R extends BoolRule ? boolean : string

/** The values of one section, as its owner reads them. */
export type SettingsOf<S extends Section> = { readonly [K in keyof S['rules']]: ValueOf<S['rules'][K]> }

/** The config that a list of sections makes: one property per section. */
export type ConfigOf<Sections extends readonly Section[]> = {
  readonly [S in Sections[number] as S['name']]: SettingsOf<S>
}

/** The defaults of a list of sections, as `config/default.json` holds them. */
export function defaultsOf (sections: readonly Section[]): ConfigInput {
  const out: ConfigInput = {}
  for (const s of sections) out[s.name] = Object.fromEntries(Object.entries(s.rules).map(([key, rule]) => [key, rule.default]))
  return out
}

/** Rules several owners share. */
export const host = (defaultValue: string): StringRule => text(defaultValue, { pattern: /^[A-Za-z0-9.:-]+$/, hint: 'an IP address or host name' })
export const port = (defaultValue: number): IntRule => int(defaultValue, { min: 0, max: 65535 })
export const urlPath = (defaultValue: string): StringRule => text(defaultValue, { pattern: /^\/[A-Za-z0-9/_-]*$/, hint: 'a URL path starting with /' })

/** A value as a configuration error quotes it, cut short. */
export function show (value: unknown): string {
  const json = JSON.stringify(value) ?? String(value)
  return json.length > 60 ? `${json.slice(0, 57)}...` : json
}
