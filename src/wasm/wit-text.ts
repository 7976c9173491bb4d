/**
 * WIT text for types and functions, as people read them in metadata and error messages:
 * `add: func(a: s32, b: s32) -> s32`, `list<point>`, `record point { x: s32, y: s32 }`.
 * Named types print as their name; anonymous records and the like (which WIT itself cannot write inline) print
 * their structure. Owned handles print as the resource name and borrowed ones as `borrow<name>`, like wasm-tools.
 */
import type { PrimitiveKind, WitFunction, WitType } from './types.js'

// WIT keywords: an identifier spelled like one is written with a leading `%`.
const KEYWORDS = new Set([
  'as', 'async', 'bool', 'borrow', 'char', 'constructor', 'enum', 'export', 'f32', 'f64', 'flags', 'from', 'func',
  'future', 'import', 'include', 'interface', 'list', 'option', 'own', 'package', 'record', 'resource', 'result',
  's8', 's16', 's32', 's64', 'static', 'stream', 'string', 'tuple', 'type', 'u8', 'u16', 'u32', 'u64', 'use',
  'variant', 'with', 'world', 'error-context',
])

export function witIdent (name: string): string {
  return KEYWORDS.has(name) ? `%${name}` : name
}

/** A type as it appears in a signature. */
export function witType (t: WitType): string {
  switch (t.kind) {
    case 'list': return `list<${witType(t.element)}>`
    case 'tuple': return `tuple<${t.items.map(witType).join(', ')}>`
    case 'option': return `option<${witType(t.inner)}>`
    case 'result': {
      if (t.ok === undefined && t.err === undefined) return 'result'
      if (t.err === undefined) return `result<${witType(t.ok as WitType)}>`
      return `result<${t.ok === undefined ? '_' : witType(t.ok)}, ${witType(t.err)}>`
    }
    case 'own': return witIdent(t.resource)
    case 'borrow': return `borrow<${witIdent(t.resource)}>`
    case 'record': case 'variant': case 'enum': case 'flags':
      return t.name !== undefined ? witIdent(t.name) : witBody(t)
    default: return t.kind
  }
}

/** `record { x: s32 }`, `variant { a(u8), b }`, `enum { a, b }`, `flags { a, b }` without a name. */
function witBody (t: WitType & { kind: 'record' | 'variant' | 'enum' | 'flags' }): string {
  switch (t.kind) {
    case 'record': return `record { ${t.fields.map((f) => `${witIdent(f.name)}: ${witType(f.type)}`).join(', ')} }`
    case 'variant': return `variant { ${t.cases.map((c) => c.type === undefined ? witIdent(c.name) : `${witIdent(c.name)}(${witType(c.type)})`).join(', ')} }`
    case 'enum': return `enum { ${t.cases.map(witIdent).join(', ')} }`
    case 'flags': return `flags { ${t.flags.map(witIdent).join(', ')} }`
  }
}

/** The definition of a named type (`record point { x: s32, y: s32 }`); undefined for a type that has no name. */
export function witDefinition (t: WitType): string | undefined {
  if (t.kind !== 'record' && t.kind !== 'variant' && t.kind !== 'enum' && t.kind !== 'flags') return undefined
  if (t.name === undefined) return undefined
  return witBody(t).replace(`${t.kind} {`, `${t.kind} ${witIdent(t.name)} {`)
}

/** Every named type a function's signature uses, deepest first, each once (by name). */
export function namedTypes (fns: WitFunction[]): WitType[] {
  const seen = new Map<string, WitType>()
  const visit = (t: WitType): void => {
    switch (t.kind) {
      case 'list': visit(t.element); return
      case 'option': visit(t.inner); return
      case 'tuple': t.items.forEach(visit); return
      case 'result': if (t.ok) visit(t.ok); if (t.err) visit(t.err); return
      case 'record': t.fields.forEach((f) => visit(f.type)); break
      case 'variant': t.cases.forEach((c) => { if (c.type) visit(c.type) }); break
      case 'enum': case 'flags': break
      default: return
    }
    if (t.name !== undefined && !seen.has(t.name)) seen.set(t.name, t)
  }
  for (const fn of fns) {
    fn.params.forEach((p) => visit(p.type))
    if (fn.result) visit(fn.result)
  }
  return [...seen.values()]
}

/** `add: func(a: s32, b: s32) -> s32`. */
export function witFunction (fn: WitFunction): string {
  const params = fn.params.map((p) => `${witIdent(p.name)}: ${witType(p.type)}`).join(', ')
  const name = fn.name.startsWith('[') ? fn.name : witIdent(fn.name)
  return `${name}: func(${params})${fn.result === undefined ? '' : ` -> ${witType(fn.result)}`}`
}

export const INT_RANGE: Partial<Record<PrimitiveKind, [number, number]>> = {
  s8: [-128, 127], u8: [0, 255], s16: [-32768, 32767], u16: [0, 65535], s32: [-2147483648, 2147483647], u32: [0, 4294967295],
}
export const BIG_RANGE = { s64: [-(2n ** 63n), 2n ** 63n - 1n], u64: [0n, 2n ** 64n - 1n] } as const

export function quoted (names: string[]): string {
  const shown = names.slice(0, 12).map((n) => JSON.stringify(n)).join(', ')
  return names.length > 12 ? `${shown}, ... (${names.length} in all)` : shown
}

/** What a JSON value of this type looks like, for error messages. */
export function expectedJson (t: WitType): string {
  const name = witType(t)
  const int = INT_RANGE[t.kind as PrimitiveKind]
  if (int !== undefined) return `${name} (an integer from ${int[0]} to ${int[1]})`
  switch (t.kind) {
    case 'bool': return 'bool (true or false)'
    case 's64': case 'u64': return `${name} (an integer from ${BIG_RANGE[t.kind][0]} to ${BIG_RANGE[t.kind][1]}, as a number or a decimal string)`
    case 'f32': case 'f64': return `${name} (a number)`
    case 'char': return 'char (a string of one Unicode character)'
    case 'string': return 'string'
    case 'list': return `${name} (an array)`
    case 'tuple': return `${name} (an array of ${t.items.length} items)`
    case 'record': return `${name} (an object with the fields ${quoted(t.fields.map((f) => f.name))})`
    case 'variant': return `${name} (an object {"<case>": payload}, or the name of a case without payload; cases: ${quoted(t.cases.map((c) => c.name))})`
    case 'enum': return `${name} (one of ${quoted(t.cases)})`
    case 'flags': return `${name} (an array of flag names from ${quoted(t.flags)})`
    case 'option': return `${name} (null or ${t.inner.kind === 'option' ? '{"some": value}' : witType(t.inner)})`
    case 'result': return `${name} ({"ok": value} or {"err": value})`
    default: return `${name} (a resource handle)`
  }
}
