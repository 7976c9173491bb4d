/**
 * The type level of the component decoder: index spaces (`Scope`), value and function types, instance and
 * component types, imports, exports and aliases. Definitions may only refer to earlier indices, so every type is
 * resolved to a WitType the moment it is read; names are attached when a type is exported (see component-decoder).
 */
import type { PrimitiveKind, WitType } from './types.js'
import type { Reader } from './binary.js'
import { skipCoreType } from './component-skip.js'

/** A WIT type, or one Colony cannot represent yet (stream, future, map, error-context): such functions are left out. */
export type Val = WitType
export interface Unsupported { kind: 'unsupported', what: string }
interface Resource { name?: string }
export interface FuncSig { params: Array<{ name: string, type: Val }>, result?: Val }
export type Exports = Map<string, Ent>
export type TypeEnt =
  | { t: 'val', v: Val }
  | { t: 'resource', r: Resource }
  | { t: 'func', f: FuncSig }
  | { t: 'instance', e: Exports }
  | { t: 'component', e: Exports }
export type Ent =
  | { s: 'func', f: FuncSig }
  | { s: 'type', t: TypeEnt }
  | { s: 'instance', e: Exports }
  | { s: 'component', e: Exports }
  | { s: 'other' }
export type Sort = 'func' | 'value' | 'type' | 'component' | 'instance' | 'module' | 'core'

const PRIMS: Record<number, PrimitiveKind> = {
  0x7f: 'bool', 0x7e: 's8', 0x7d: 'u8', 0x7c: 's16', 0x7b: 'u16', 0x7a: 's32', 0x79: 'u32', 0x78: 's64', 0x77: 'u64',
  0x76: 'f32', 0x75: 'f64', 0x74: 'char', 0x73: 'string',
}
const ERROR_CONTEXT = 0x64
const SORTS: Record<number, Sort> = { 0x01: 'func', 0x02: 'value', 0x03: 'type', 0x04: 'component', 0x05: 'instance' }
const NAMED_KINDS = new Set(['record', 'variant', 'enum', 'flags'])

export class Scope {
  readonly types: TypeEnt[] = []
  readonly funcs: FuncSig[] = []
  readonly instances: Exports[] = []
  readonly components: Exports[] = []
  readonly exports: Exports = new Map()
  readonly imports: Array<[string, Ent]> = []
  constructor (readonly parent: Scope | undefined, readonly handles: Array<[{ resource: string }, Resource]>) {}
}

export function unsupported (what: string): Val {
  return { kind: 'unsupported', what } satisfies Unsupported as unknown as Val
}

export function at<T> (r: Reader, list: T[], index: number, what: string): T {
  const item = list[index]
  if (item === undefined) r.fail(`${what} index ${index} is out of range (${list.length} defined)`)
  return item
}

export function sort (r: Reader): Sort {
  const b = r.u8()
  if (b === 0x00) return r.u8() === 0x11 ? 'module' : 'core'
  return SORTS[b] ?? r.fail(`unknown sort 0x${b.toString(16)}`, r.pos - 1)
}

/** An import or export name: `0x00 name`, the legacy `0x01 name`, or `0x02 name options` (implements, version suffix). */
export function externName (r: Reader): string {
  const b = r.u8()
  if (b === 0x00 || b === 0x01) return r.string()
  if (b !== 0x02) r.fail(`invalid name prefix 0x${b.toString(16)}`, r.pos - 1)
  const name = r.string()
  r.vec(() => { r.u8(); return r.string() })
  return name
}

export function typeAt (r: Reader, scope: Scope, index: number): TypeEnt {
  return at(r, scope.types, index, 'type')
}

function valType (r: Reader, scope: Scope): Val {
  const b = r.peek()
  const prim = PRIMS[b]
  if (prim !== undefined) { r.u8(); return { kind: prim } }
  if (b === ERROR_CONTEXT) { r.u8(); return unsupported('error-context') }
  const start = r.pos
  const index = r.s33()
  if (index < 0) r.fail(`unknown value type 0x${b.toString(16)}`, start)
  const t = typeAt(r, scope, index)
  if (t.t !== 'val') r.fail(`type ${index} is a ${t.t}, not a value type`, start)
  return t.v
}

function handle (r: Reader, scope: Scope, kind: 'own' | 'borrow'): Val {
  const index = r.u32()
  const t = typeAt(r, scope, index)
  if (t.t !== 'resource') r.fail(`${kind}<${index}> does not name a resource`)
  const h = { kind, resource: '' }
  scope.handles.push([h, t.r])
  return h
}

function label (r: Reader): string { return r.string() }

function defValType (r: Reader, scope: Scope, b: number): Val {
  const prim = PRIMS[b]
  if (prim !== undefined) return { kind: prim }
  switch (b) {
    case 0x72: return { kind: 'record', fields: r.vec(() => ({ name: label(r), type: valType(r, scope) })) }
    case 0x71: return {
      kind: 'variant',
      cases: r.vec(() => {
        const name = label(r)
        const type = r.optional(() => valType(r, scope))
        r.optional(() => r.u32()) // "refines", always absent since 2023
        return type === undefined ? { name } : { name, type }
      }),
    }
    case 0x70: return { kind: 'list', element: valType(r, scope) }
    // list<T, N>: a list whose length the guest checks; JSON and jco both use an array.
    case 0x67: { const element = valType(r, scope); r.u32(); return { kind: 'list', element } }
    case 0x6f: return { kind: 'tuple', items: r.vec(() => valType(r, scope)) }
    case 0x6e: return { kind: 'flags', flags: r.vec(() => label(r)) }
    case 0x6d: return { kind: 'enum', cases: r.vec(() => label(r)) }
    case 0x6b: return { kind: 'option', inner: valType(r, scope) }
    case 0x6a: {
      const ok = r.optional(() => valType(r, scope))
      const err = r.optional(() => valType(r, scope))
      return { kind: 'result', ...(ok !== undefined && { ok }), ...(err !== undefined && { err }) }
    }
    case 0x69: return handle(r, scope, 'own')
    case 0x68: return handle(r, scope, 'borrow')
    case 0x63: valType(r, scope); valType(r, scope); return unsupported('map')
    case 0x66: r.optional(() => valType(r, scope)); return unsupported('stream')
    case 0x65: r.optional(() => valType(r, scope)); return unsupported('future')
    default: return r.fail(`unknown type constructor 0x${b.toString(16)}`, r.pos - 1)
  }
}

function funcSig (r: Reader, scope: Scope): FuncSig {
  const params = r.vec(() => ({ name: label(r), type: valType(r, scope) }))
  const b = r.u8()
  if (b === 0x00) return { params, result: valType(r, scope) }
  if (b === 0x01 && r.u8() === 0x00) return { params }
  return r.fail('invalid function result list')
}

export function defType (r: Reader, scope: Scope): TypeEnt {
  const b = r.u8()
  switch (b) {
    case 0x3f: r.u8(); r.optional(() => r.u32()); return { t: 'resource', r: {} }
    case 0x40: case 0x43: return { t: 'func', f: funcSig(r, scope) }
    case 0x41: return { t: 'component', e: declarations(r, new Scope(scope, scope.handles), true) }
    case 0x42: return { t: 'instance', e: declarations(r, new Scope(scope, scope.handles), false) }
    default: return { t: 'val', v: defValType(r, scope, b) }
  }
}

/** The body of an instance or component type: its exports (and, for a component type, imports) with their types. */
function declarations (r: Reader, scope: Scope, allowImports: boolean): Exports {
  r.vec(() => {
    const b = r.u8()
    if (b === 0x00) skipCoreType(r)
    else if (b === 0x01) scope.types.push(defType(r, scope))
    else if (b === 0x02) alias(r, scope)
    else if (b === 0x03 && allowImports) importDecl(r, scope)
    else if (b === 0x04) {
      const name = externName(r)
      define(scope, externDesc(r, scope), name, false)
    } else r.fail(`unknown type declaration 0x${b.toString(16)}`, r.pos - 1)
  })
  return scope.exports
}

export function importDecl (r: Reader, scope: Scope): void {
  const name = externName(r)
  const ent = externDesc(r, scope)
  push(scope, ent)
  nameEnt(ent, name, true)
  scope.imports.push([name, ent])
}

/** Adds an exported entity to its index space and to the scope's exports. */
export function define (scope: Scope, ent: Ent, name: string, viaImport: boolean): void {
  push(scope, ent)
  nameEnt(ent, name, viaImport)
  scope.exports.set(name, ent)
}

export function externDesc (r: Reader, scope: Scope): Ent {
  const b = r.u8()
  const start = r.pos
  switch (b) {
    case 0x00: r.u8(); r.u32(); return { s: 'other' }
    case 0x01: {
      const t = typeAt(r, scope, r.u32())
      return t.t === 'func' ? { s: 'func', f: t.f } : r.fail('a function import or export names a type that is not a function', start)
    }
    case 0x02: if (r.u8() === 0x00) r.u32(); else valType(r, scope); return { s: 'other' }
    case 0x03: {
      const bound = r.u8()
      if (bound === 0x00) return { s: 'type', t: typeAt(r, scope, r.u32()) }
      if (bound === 0x01) return { s: 'type', t: { t: 'resource', r: {} } }
      return r.fail(`invalid type bound 0x${bound.toString(16)}`, start)
    }
    case 0x04: case 0x05: {
      const t = typeAt(r, scope, r.u32())
      const want = b === 0x04 ? 'component' : 'instance'
      if (t.t !== want) r.fail(`an ${want} import or export names a ${t.t} type`, start)
      return { s: want, e: t.e }
    }
    default: return r.fail(`unknown import/export kind 0x${b.toString(16)}`, start - 1)
  }
}

function push (scope: Scope, ent: Ent): void {
  if (ent.s === 'func') scope.funcs.push(ent.f)
  else if (ent.s === 'type') scope.types.push(ent.t)
  else if (ent.s === 'instance') scope.instances.push(ent.e)
  else if (ent.s === 'component') scope.components.push(ent.e)
}

export function entAt (r: Reader, scope: Scope, s: Sort, index: number): Ent {
  switch (s) {
    case 'func': return { s, f: at(r, scope.funcs, index, 'function') }
    case 'type': return { s, t: at(r, scope.types, index, 'type') }
    case 'instance': return { s, e: at(r, scope.instances, index, 'instance') }
    case 'component': return { s, e: at(r, scope.components, index, 'component') }
    default: return { s: 'other' }
  }
}

/** The first name a record, variant, enum, flags or resource is exported under is its WIT name. */
function nameEnt (ent: Ent, name: string, viaImport: boolean): void {
  if (ent.s !== 'type' || (viaImport && name.startsWith('import-type-'))) return
  const t = ent.t
  if (t.t === 'resource') t.r.name ??= name
  else if (t.t === 'val' && NAMED_KINDS.has(t.v.kind)) {
    const v = t.v as { name?: string }
    v.name ??= name
  }
}

export function alias (r: Reader, scope: Scope): void {
  const b1 = r.u8()
  const b2 = b1 === 0x00 ? r.u8() : undefined
  const target = r.u8()
  if (target === 0x00) {
    const s: Sort = b1 === 0x00 ? 'module' : SORTS[b1] ?? r.fail(`unknown alias sort 0x${b1.toString(16)}`)
    const instance = at(r, scope.instances, r.u32(), 'instance')
    const name = r.string()
    if (s === 'module' || s === 'value') return
    const ent = instance.get(name) ?? r.fail(`instance has no export "${name}"`)
    if (ent.s !== s) r.fail(`export "${name}" is a ${ent.s}, not a ${s}`)
    push(scope, ent)
  } else if (target === 0x01) {
    r.u32(); r.string() // core instance export: core index spaces are not tracked
  } else if (target === 0x02) {
    let outer: Scope | undefined = scope
    for (let n = r.u32(); n > 0; n--) outer = outer?.parent
    const index = r.u32()
    if (outer === undefined) r.fail('outer alias reaches past the outermost component')
    if (b1 === 0x03) scope.types.push(at(r, outer.types, index, 'outer type'))
    else if (b1 === 0x04) scope.components.push(at(r, outer.components, index, 'outer component'))
    else if (b1 !== 0x00 || (b2 !== 0x10 && b2 !== 0x11)) r.fail(`invalid outer alias sort 0x${b1.toString(16)}`)
  } else r.fail(`unknown alias target 0x${target.toString(16)}`, r.pos - 1)
}
