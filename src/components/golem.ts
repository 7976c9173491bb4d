/**
 * Golem's shapes around invocation: the analysed-type JSON (`typ`), the invoke-and-await body
 * (`{result: {typ: {type: 'Tuple', items}, value: [...]}}`) and the function names callers use (`add`,
 * `math.add`, `local:adder/math.{add}`, `local:adder/math#add`, ...).
 */
import { ColonyError } from '../errors.js'
import type { ComponentMetadata, WitFunction, WitType } from '../wasm/types.js'

export type GolemTyp = { type: string } & Record<string, unknown>

const PRIMS: Record<string, string> = {
  bool: 'Bool', s8: 'S8', u8: 'U8', s16: 'S16', u16: 'U16', s32: 'S32', u32: 'U32', s64: 'S64', u64: 'U64',
  f32: 'F32', f64: 'F64', char: 'Chr', string: 'Str',
}

function named (t: { name?: string }): { name?: string } {
  return t.name === undefined ? {} : { name: t.name }
}

/** Golem's analysed type for a WIT type. Named records, variants, enums and flags also carry their `name`. */
export function golemTyp (t: WitType): GolemTyp {
  switch (t.kind) {
    case 'list': return { type: 'List', inner: golemTyp(t.element) }
    case 'tuple': return { type: 'Tuple', items: t.items.map(golemTyp) }
    case 'record': return { type: 'Record', ...named(t), fields: t.fields.map((f) => ({ name: f.name, typ: golemTyp(f.type) })) }
    case 'variant': return {
      type: 'Variant',
      ...named(t),
      cases: t.cases.map((c) => c.type === undefined ? { name: c.name } : { name: c.name, typ: golemTyp(c.type) }),
    }
    case 'enum': return { type: 'Enum', ...named(t), cases: [...t.cases] }
    case 'flags': return { type: 'Flags', ...named(t), names: [...t.flags] }
    case 'option': return { type: 'Option', inner: golemTyp(t.inner) }
    case 'result': return {
      type: 'Result',
      ...(t.ok !== undefined && { ok: golemTyp(t.ok) }),
      ...(t.err !== undefined && { err: golemTyp(t.err) }),
    }
    case 'own': case 'borrow': return { type: 'Handle', resource: t.resource, mode: t.kind === 'own' ? 'Owned' : 'Borrowed' }
    default: return { type: PRIMS[t.kind] as string }
  }
}

/** The invoke-and-await response body: the result as a tuple of the function's return values (none or one). */
export function invokeResult (fn: WitFunction, jsonValue: unknown): { result: { typ: GolemTyp, value: unknown[] } } {
  if (fn.result === undefined) return { result: { typ: { type: 'Tuple', items: [] }, value: [] } }
  return { result: { typ: { type: 'Tuple', items: [golemTyp(fn.result)] }, value: [jsonValue] } }
}

/** `local:adder/math` for `local:adder/math@1.0.0`. */
function unversioned (iface: string): string {
  const at = iface.lastIndexOf('@')
  return at > iface.lastIndexOf('/') ? iface.slice(0, at) : iface
}

/** The interface's short name: `math` for `local:adder/math@1.0.0`, the name itself for an inline interface. */
function shortName (iface: string): string {
  const bare = unversioned(iface)
  return bare.slice(bare.lastIndexOf('/') + 1)
}

/** How a function is shown in lists and errors: Golem's `local:adder/math.{add}`, or `add` at world level. */
export function displayName (fn: WitFunction): string {
  return fn.interface === undefined ? fn.name : `${fn.interface}.{${fn.name}}`
}

function spellings (fn: WitFunction): Set<string> {
  const out = new Set([fn.name])
  if (fn.interface === undefined) return out
  for (const i of new Set([fn.interface, unversioned(fn.interface), shortName(fn.interface)])) {
    for (const form of [`${i}.{${fn.name}}`, `${i}.${fn.name}`, `${i}#${fn.name}`, `${i}/${fn.name}`]) out.add(form)
  }
  return out
}

/**
 * Finds the function a caller names. Accepted: `add`, `math.add`, `math/add`, `math.{add}`, and with the full
 * interface id (version optional) `local:adder/math.{add}`, `local:adder/math.add`, `local:adder/math#add`,
 * `local:adder/math/add`. A name several exports answer to is `function_ambiguous`.
 */
/** Every accepted spelling of every export, built once per metadata object (invocations are a hot path). */
const spellingIndex = new WeakMap<ComponentMetadata, Map<string, WitFunction[]>>()

function indexOf (metadata: ComponentMetadata): Map<string, WitFunction[]> {
  let index = spellingIndex.get(metadata)
  if (index === undefined) {
    index = new Map()
    for (const fn of metadata.exports) {
      for (const s of spellings(fn)) index.set(s, [...(index.get(s) ?? []), fn])
    }
    spellingIndex.set(metadata, index)
  }
  return index
}

export function resolveFunction (metadata: ComponentMetadata, name: string): WitFunction {
  const matches = indexOf(metadata).get(name) ?? []
  if (matches.length === 1) return matches[0] as WitFunction
  if (matches.length > 1) {
    const names = matches.map(displayName)
    throw new ColonyError('function_ambiguous', `"${name}" matches ${names.length} exports: ${names.join(', ')}; use the full name`,
      { details: { matches: names } })
  }
  const available = metadata.exports.map(displayName)
  throw new ColonyError('function_not_found',
    `the component exports no function "${name}"; ${available.length === 0 ? 'it exports no functions' : `it exports ${available.join(', ')}`}`,
    { details: { available } })
}
