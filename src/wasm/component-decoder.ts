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
import type { ComponentMetadata, WitFunction } from './types.js'
import { Reader } from './binary.js'
import { skipCanon } from './component-skip.js'
import {
  alias, at, define, defType, entAt, externDesc, externName, importDecl, Scope, sort, typeAt,
  type FuncSig, type Unsupported, type Val,
} from './component-types.js'

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
  // Only interfaces with functions need an implementation (a link); a types-only import (`.../types`) does not.
  for (const [name, ent] of top.imports) {
    if (ent.s === 'instance' && [...ent.e.values()].some((x) => x.s === 'func')) out.imports.push(name)
  }
  return out
}
