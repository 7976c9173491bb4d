/**
 * Entries the component decoder must step over without using: canonical built-ins (only `canon lift` defines a
 * component function; everything else defines core functions) and core types inside type declarations. These
 * are not length-prefixed, so each form is read to its end. Opcodes follow wasmparser's
 * `readers/component/canonicals.rs` (component-model async and threads included).
 */
import type { Reader } from './binary.js'

function opts (r: Reader): void {
  r.vec(() => {
    const b = r.u8()
    if (b >= 0x03 && b <= 0x08 && b !== 0x06) r.u32() // memory, realloc, post-return, callback, core-type
    else if (b > 0x09) r.fail(`unknown canonical option 0x${b.toString(16)}`, r.pos - 1)
  })
}

/** A core value type: one byte, or a reference type `0x63|0x64 <heaptype>`. */
function coreValType (r: Reader): void {
  const b = r.u8()
  if (b === 0x63 || b === 0x64) r.s33()
}

function componentValType (r: Reader): void {
  const b = r.peek()
  if ((b >= 0x73 && b <= 0x7f) || b === 0x64) r.u8()
  else r.s33()
}

// Operand layouts of the canonical built-ins other than lift and lower.
const NONE = new Set([0x05, 0x0d, 0x1e, 0x1f, 0x22, 0x23, 0x24, 0x25, 0x26, 0x28, 0x42])
const INDEX = new Set([0x02, 0x03, 0x04, 0x0e, 0x13, 0x14, 0x15, 0x1a, 0x1b, 0x40])
const INDEX_OPTS = new Set([0x0f, 0x10, 0x16, 0x17])
const INDEX_BOOL = new Set([0x11, 0x12, 0x18, 0x19])
const BOOL = new Set([0x06, 0x0c, 0x29, 0x2a, 0x2b, 0x2c, 0x2d])
const TWO_INDICES = new Set([0x27, 0x41])

/** Reads one canonical function; returns the type index when it is a `canon lift` (a new component function). */
export function skipCanon (r: Reader): number | undefined {
  const op = r.u8()
  if (op === 0x00) {
    if (r.u8() !== 0x00) r.fail('invalid canon lift', r.pos - 1)
    r.u32()
    opts(r)
    return r.u32()
  }
  if (op === 0x01) { // lower
    if (r.u8() !== 0x00) r.fail('invalid canon lower', r.pos - 1)
    r.u32()
    opts(r)
  } else if (NONE.has(op)) {
    // no operands
  } else if (INDEX.has(op)) {
    r.u32()
  } else if (INDEX_OPTS.has(op)) {
    r.u32()
    opts(r)
  } else if (INDEX_BOOL.has(op)) {
    r.u32()
    r.bool()
  } else if (BOOL.has(op)) {
    r.bool()
  } else if (TWO_INDICES.has(op)) {
    r.u32()
    r.u32()
  } else if (op === 0x09) { // task.return
    const b = r.u8()
    if (b === 0x00) componentValType(r)
    else if (b !== 0x01 || r.u8() !== 0x00) r.fail('invalid task.return result')
    opts(r)
  } else if (op === 0x0a || op === 0x0b) { // context.get / context.set
    coreValType(r)
    r.u32()
  } else if (op === 0x1c || op === 0x1d) { // error-context.new / debug-message
    opts(r)
  } else if (op === 0x20 || op === 0x21) { // waitable-set.wait / poll
    r.bool()
    r.u32()
  } else {
    r.fail(`unknown canonical function 0x${op.toString(16)}`, r.pos - 1)
  }
  return undefined
}

function limits (r: Reader): void {
  const flags = r.u8()
  const wide = (flags & 0x04) !== 0
  r.uleb(wide ? 64 : 32)
  if ((flags & 0x01) !== 0) r.uleb(wide ? 64 : 32)
  if ((flags & 0x08) !== 0) r.u32() // custom page size
}

function coreTypeRef (r: Reader): void {
  const kind = r.u8()
  switch (kind) {
    case 0x00: r.u32(); return // func
    case 0x01: coreValType(r); limits(r); return // table
    case 0x02: limits(r); return // memory
    case 0x03: coreValType(r); r.u8(); return // global
    case 0x04: r.u8(); r.u32(); return // tag
    default: r.fail(`unknown core import kind 0x${kind.toString(16)}`, r.pos - 1)
  }
}

function coreFuncType (r: Reader): void {
  if (r.u8() !== 0x60) r.fail('only core function types are supported in a component type declaration', r.pos - 1)
  r.vec(() => coreValType(r))
  r.vec(() => coreValType(r))
}

/** A core type in an instance or component type declaration: a function type or a module type. */
export function skipCoreType (r: Reader): void {
  if (r.peek() !== 0x50) { coreFuncType(r); return }
  r.u8()
  r.vec(() => {
    const b = r.u8()
    switch (b) {
      case 0x00: r.string(); r.string(); coreTypeRef(r); return // import
      case 0x01: coreFuncType(r); return // type
      case 0x02: r.u8(); r.u8(); r.u32(); r.u32(); return // outer alias
      case 0x03: r.string(); coreTypeRef(r); return // export
      default: r.fail(`unknown module type declaration 0x${b.toString(16)}`, r.pos - 1)
    }
  })
}
