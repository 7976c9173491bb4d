/**
 * Reads what a component exports and imports, with full WIT types, straight from the component binary
 * (Binary.md of the component model; wasmparser is the reference reader). Only the component-level sections
 * are decoded: core modules, core instances and custom sections are skipped by length, so a 12 MB
 * StarlingMonkey component costs about as much as a 1 KB one.
 *
 * Every definition adds an entry to the index space of its sort (types, funcs, instances, components), as the
 * spec says; exported interfaces are instances, usually of a "shim" component that wit-component builds, whose
 * exports carry the function types. Names come from exports (and imports), which is how WIT names reach the
 * binary: `(export "point" (type 1))`. wit-component's own `import-type-*` imports inside shims are not WIT names.
 */
import type { ComponentMetadata, PrimitiveKind, WitFunction, WitType } from './types.js'
import { Reader } from './binary.js'
import { skipCanon, skipCoreType } from './component-skip.js'

/** A WIT type, or one Colony cannot represent yet (stream, future, map, error-context): such functions are left out. */
type Val = WitType
interface Unsupported { kind: 'unsupported', what: string }
interface Resource { name?: string }
interface FuncSig { params: Array<{ name: string, type: Val }>, result?: Val }
type Exports = Map<string, Ent>
type TypeEnt =
  | { t: 'val', v: Val }
  | { t: 'resource', r: Resource }
  | { t: 'func', f: FuncSig }
  | { t: 'instance', e: Exports }
  | { t: 'component', e: Exports }
type Ent =
  | { s: 'func', f: FuncSig }
  | { s: 'type', t: TypeEnt }
  | { s: 'instance', e: Exports }
  | { s: 'component', e: Exports }
  | { s: 'other' }
type Sort = 'func' | 'value' | 'type' | 'component' | 'instance' | 'module' | 'core'

const PRIMS: Record<number, PrimitiveKind> = {
  0x7f: 'bool', 0x7e: 's8', 0x7d: 'u8', 0x7c: 's16', 0x7b: 'u16', 0x7a: 's32', 0x79: 'u32', 0x78: 's64', 0x77: 'u64',
  0x76: 'f32', 0x75: 'f64', 0x74: 'char', 0x73: 'string',
}
const ERROR_CONTEXT = 0x64
const SORTS: Record<number, Sort> = { 0x01: 'func', 0x02: 'value', 0x03: 'type', 0x04: 'component', 0x05: 'instance' }
const NAMED_KINDS = new Set(['record', 'variant', 'enum', 'flags'])

class Scope {
  readonly types: TypeEnt[] = []
  readonly funcs: FuncSig[] = []
  readonly instances: Exports[] = []
  readonly components: Exports[] = []
  readonly exports: Exports = new Map()
  readonly imports: Array<[string, Ent]> = []
  constructor (readonly parent: Scope | undefined, readonly handles: Array<[{ resource: string }, Resource]>) {}
}

function unsupported (what: string): Val {
  return { kind: 'unsupported', what } satisfies Unsupported as unknown as Val
}

function at<T> (r: Reader, list: T[], index: number, what: string): T {
  const item = list[index]
  if (item === undefined) r.fail(`${what} index ${index} is out of range (${list.length} defined)`)
  return item
}

function sort (r: Reader): Sort {
  const b = r.u8()
  if (b === 0x00) return r.u8() === 0x11 ? 'module' : 'core'
  return SORTS[b] ?? r.fail(`unknown sort 0x${b.toString(16)}`, r.pos - 1)
}

/** An import or export name: `0x00 name`, the legacy `0x01 name`, or `0x02 name options` (implements, version suffix). */
function externName (r: Reader): string {
  const b = r.u8()
  if (b === 0x00 || b === 0x01) return r.string()
  if (b !== 0x02) r.fail(`invalid name prefix 0x${b.toString(16)}`, r.pos - 1)
  const name = r.string()
  r.vec(() => { r.u8(); return r.string() })
  return name
}

function typeAt (r: Reader, scope: Scope, index: number): TypeEnt {
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

function defType (r: Reader, scope: Scope): TypeEnt {
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

function importDecl (r: Reader, scope: Scope): void {
  const name = externName(r)
  const ent = externDesc(r, scope)
  push(scope, ent)
  nameEnt(ent, name, true)
  scope.imports.push([name, ent])
}

/** Adds an exported entity to its index space and to the scope's exports. */
function define (scope: Scope, ent: Ent, name: string, viaImport: boolean): void {
  push(scope, ent)
  nameEnt(ent, name, viaImport)
  scope.exports.set(name, ent)
}

function externDesc (r: Reader, scope: Scope): Ent {
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

function entAt (r: Reader, scope: Scope, s: Sort, index: number): Ent {
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

function alias (r: Reader, scope: Scope): void {
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

const MAGIC = [0x00, 0x61, 0x73, 0x6d]

function component (r: Reader, scope: Scope): void {
  for (const byte of MAGIC) if (r.u8() !== byte) r.fail('missing \\0asm magic', r.pos - 1)
  const version = r.u8() | (r.u8() << 8)
  const layer = r.u8() | (r.u8() << 8)
  if (layer !== 1 || version !== 0x0d) r.fail(`not a component (version 0x${version.toString(16)}, layer ${layer})`)
  while (!r.done) {
    const id = r.u8()
    const s = r.sub(r.u32())
    section(id, s, scope)
    if (id >= 4 && id <= 11 && id !== 9) s.expectEnd(`section ${id}`)
  }
}

function section (id: number, r: Reader, scope: Scope): void {
  switch (id) {
    case 0: case 1: case 2: case 3: case 9: case 12: return // custom, core module/instance/type, start, values
    case 4: {
      const nested = new Scope(scope, scope.handles)
      component(r, nested)
      scope.components.push(nested.exports)
      return
    }
    case 5: r.vec(() => {
      const b = r.u8()
      if (b === 0x00) {
        const c = at(r, scope.components, r.u32(), 'component')
        r.vec(() => { r.string(); sort(r); return r.u32() })
        scope.instances.push(c) // arguments only supply imports: the instance's exports are the component's
      } else if (b === 0x01) {
        scope.instances.push(new Map(r.vec(() => {
          const name = externName(r)
          const s = sort(r)
          return [name, entAt(r, scope, s, r.u32())] as const
        })))
      } else r.fail(`unknown instance kind 0x${b.toString(16)}`, r.pos - 1)
    }); return
    case 6: r.vec(() => alias(r, scope)); return
    case 7: r.vec(() => scope.types.push(defType(r, scope))); return
    case 8: r.vec(() => {
      const lift = skipCanon(r)
      if (lift !== undefined) {
        const t = typeAt(r, scope, lift)
        if (t.t !== 'func') r.fail(`canon lift uses type ${lift}, which is not a function type`)
        scope.funcs.push(t.f)
      }
    }); return
    case 10: r.vec(() => importDecl(r, scope)); return
    case 11: r.vec(() => {
      const name = externName(r)
      const s = sort(r)
      const ent = entAt(r, scope, s, r.u32())
      const ascribed = r.optional(() => externDesc(r, scope))
      // An ascribed function or instance type is what the outside sees (a shim's exports carry the WIT types this
      // way); an exported type keeps its definition, so that handles to a resource find the resource's name.
      define(scope, ascribed !== undefined && ascribed.s === ent.s && ent.s !== 'type' ? ascribed : ent, name, false)
    }); return
    default: r.fail(`unknown section id ${id}`)
  }
}

function findUnsupported (t: Val): string | undefined {
  const v = t as Val | Unsupported
  switch (v.kind) {
    case 'unsupported': return v.what
    case 'list': return findUnsupported(v.element)
    case 'option': return findUnsupported(v.inner)
    case 'tuple': for (const i of v.items) { const u = findUnsupported(i); if (u !== undefined) return u } return undefined
    case 'record': for (const f of v.fields) { const u = findUnsupported(f.type); if (u !== undefined) return u } return undefined
    case 'variant': for (const c of v.cases) { const u = c.type && findUnsupported(c.type); if (u !== undefined) return u } return undefined
    case 'result': return (v.ok && findUnsupported(v.ok)) ?? (v.err && findUnsupported(v.err))
    default: return undefined
  }
}

export interface DecodedComponent extends ComponentMetadata {
  /** Exported functions left out because a parameter or result uses a type Colony cannot represent. */
  skipped: Array<{ name: string, interface?: string, reason: string }>
}

/** Decodes a component's exports and imports. Throws DecodeError when the bytes are not a well-formed component. */
export function decodeComponent (bytes: Uint8Array): DecodedComponent {
  const top = new Scope(undefined, [])
  component(new Reader(bytes), top)
  for (const [h, res] of top.handles) h.resource = res.name ?? 'resource'
  const out: DecodedComponent = { exports: [], imports: [], exportedInterfaces: [], skipped: [] }
  const add = (name: string, iface: string | undefined, f: FuncSig): void => {
    const reason = [...f.params.map((p) => p.type), ...(f.result ? [f.result] : [])].map(findUnsupported).find((u) => u !== undefined)
    const where = iface === undefined ? {} : { interface: iface }
    if (reason !== undefined) out.skipped.push({ name, ...where, reason: `uses ${reason}` })
    else out.exports.push({ name, ...where, params: f.params, ...(f.result && { result: f.result }) } satisfies WitFunction)
  }
  for (const [name, ent] of top.exports) {
    if (ent.s === 'func') add(name, undefined, ent.f)
    else if (ent.s === 'instance') {
      out.exportedInterfaces.push(name)
      for (const [fname, fent] of ent.e) if (fent.s === 'func') add(fname, name, fent.f)
    }
  }
  for (const [name, ent] of top.imports) if (ent.s === 'instance') out.imports.push(name)
  return out
}
