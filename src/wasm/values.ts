/**
 * Values between JSON (what REST and MQTT callers send and receive) and the JavaScript values of jco's bindings.
 *
 * JSON (Golem's convention): integers and floats are numbers (s64/u64 also decimal strings, and come back as
 * strings past 2^53; non-finite floats are "NaN", "Infinity", "-Infinity"); char is a one-character string (a
 * code point number is accepted too, as Golem writes it); list and tuple are arrays; record is an object with
 * the WIT (kebab-case) field names, where a missing option field means none; variant is {"case": payload} or
 * the bare case name when the case has no payload; enum is the case name; option is null or the value
 * ({"some": value} when the value is itself an option); result is {"ok": v} or {"err": e}; flags are an array
 * of flag names.
 *
 * jco (jco-transpile 0.15, checked by transpiling and calling echo components, see test/src/wasm/): u64/s64 are
 * BigInt; lists of numbers are typed arrays (list<u8> a Uint8Array, list<u64> a BigUint64Array, ...) and plain
 * arrays are accepted; record fields and flag names are lowerCamelCase ("end-point" -> endPoint); flags are an
 * object with every flag as a boolean (unknown keys are silently ignored: a kebab-case key sets nothing); variants
 * are {tag, val} with the WIT case name as tag; enums are the WIT case name; option<T> is T | undefined unless T
 * itself can be undefined (option<option<u8>>), then {tag: 'some', val} | {tag: 'none'}; a nested result is
 * {tag: 'ok' | 'err', val}. jco does not range-check most numbers (s8 200 becomes -56, u32 -1 becomes
 * 4294967295, a two-character char is cut to its first), so everything is checked here first.
 */
import { ColonyError } from '../errors.js'
import type { PrimitiveKind, WitFunction, WitType } from './types.js'
import { BIG_RANGE, expectedJson, INT_RANGE, quoted, witType } from './wit-text.js'

type Segment = string | number

/** jco's JS name for a WIT name: heck's lowerCamelCase, e.g. `end-point` -> `endPoint`, `HTTP-code` -> `httpCode`. */
export function jsName (witName: string): string {
  return witName.split('-').filter((w) => w !== '').map((w, i) => {
    const lower = w.toLowerCase()
    return i === 0 ? lower : lower.charAt(0).toUpperCase() + lower.slice(1)
  }).join('')
}

const TYPED_ARRAYS: Partial<Record<PrimitiveKind, new (n: number) => { [i: number]: unknown }>> = {
  u8: Uint8Array, s8: Int8Array, u16: Uint16Array, s16: Int16Array, u32: Uint32Array, s32: Int32Array,
  u64: BigUint64Array, s64: BigInt64Array, f32: Float32Array, f64: Float64Array,
}
const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY }
const LONE_SURROGATE = /\p{Cs}/u

class Walk {
  readonly path: Segment[] = []
  readonly human: string[] = []
  constructor (readonly param: string) {}

  at<T> (segment: Segment, human: string, f: () => T): T {
    this.path.push(segment)
    this.human.push(human)
    const out = f()
    this.path.pop()
    this.human.pop()
    return out
  }

  fail (message: string, expected: string): never {
    const where = [`parameter ${JSON.stringify(this.param)}`, ...this.human].join(': ')
    throw new ColonyError('invalid_params', `${where}: ${message}`, { details: { param: this.param, path: this.pointer(), expected } })
  }

  /** Runs `f`; a mismatch of the value itself (not of something inside it) is reported by `instead`. */
  retry<T> (f: () => T, instead: () => never): T {
    const depth = this.path.length
    try {
      return f()
    } catch (err) {
      if (err instanceof ColonyError && this.path.length === depth && (err.details?.path as string) === this.pointer()) instead()
      throw err
    }
  }

  pointer (): string {
    return this.path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('')
  }

  mismatch (t: WitType, got: unknown, hint = ''): never {
    const expected = expectedJson(t)
    return this.fail(`expected ${expected}, got ${show(got)}${hint}`, expected)
  }
}

const SHOWN_CHARS = 60

function show (v: unknown): string {
  if (v === undefined) return 'nothing'
  const text = preview(v, SHOWN_CHARS)
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 3)}...` : text
}

/**
 * JSON text of `v` as far as the first `budget` characters go. Not `JSON.stringify`: a caller's value may nest
 * a hundred thousand arrays deep (JSON.parse takes it), and stringifying all of it overflows the stack just to
 * print its first characters.
 */
function preview (v: unknown, budget: number): string {
  if (typeof v === 'bigint') return String(v)
  if (typeof v !== 'object' || v === null) return JSON.stringify(v) ?? typeof v
  const entries: Array<[string, unknown]> = Array.isArray(v) ? v.map((x) => ['', x]) : Object.entries(v).map(([k, x]) => [`${JSON.stringify(k)}:`, x])
  const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}']
  if (budget <= 1) return entries.length === 0 ? open + close : `${open}...`
  let text = open
  for (const [key, x] of entries) {
    if (text.length > budget) return `${text}...`
    text += (text === open ? '' : ',') + key + preview(x, budget - text.length - key.length)
  }
  return text + close
}

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** jco writes option<T> as `T | undefined` unless T itself may be undefined (its `as_nullable`). */
export function jsNullable (t: WitType & { kind: 'option' }): boolean {
  return !(t.inner.kind === 'option' && jsNullable(t.inner))
}

/** Checks a JSON value against a parameter's type and converts it to what jco's binding takes. */
export function toGuest (type: WitType, json: unknown, param: string): unknown {
  return lower(type, json, new Walk(param))
}

function lower (t: WitType, v: unknown, w: Walk): unknown {
  const int = INT_RANGE[t.kind as PrimitiveKind]
  if (int !== undefined) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= int[0] && v <= int[1]) return v
    return w.mismatch(t, v)
  }
  switch (t.kind) {
    case 'bool': return typeof v === 'boolean' ? v : w.mismatch(t, v)
    case 's64': case 'u64': return lowerBig({ kind: t.kind }, v, w)
    case 'f32': case 'f64': {
      const n = typeof v === 'number' ? v : typeof v === 'string' ? NON_FINITE[v] : undefined
      if (n === undefined) return w.mismatch(t, v)
      if (t.kind === 'f32' && Number.isFinite(n) && !Number.isFinite(Math.fround(n))) return w.mismatch(t, v, ' (outside the f32 range)')
      return n
    }
    case 'char': {
      const c = typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x10ffff ? String.fromCodePoint(v) : v
      if (typeof c === 'string' && c.length > 0 && c.length <= 2 && [...c].length === 1 && !LONE_SURROGATE.test(c)) return c
      return w.mismatch(t, v)
    }
    case 'string':
      if (typeof v !== 'string') return w.mismatch(t, v)
      return LONE_SURROGATE.test(v) ? w.mismatch(t, v, ' (it contains an unpaired surrogate, which is not Unicode text)') : v
    case 'list': {
      if (!Array.isArray(v)) return w.mismatch(t, v)
      const Typed = TYPED_ARRAYS[t.element.kind as PrimitiveKind]
      const out = Typed !== undefined ? new Typed(v.length) : new Array<unknown>(v.length)
      for (let i = 0; i < v.length; i++) out[i] = w.at(i, `element ${i}`, () => lower(t.element, v[i], w))
      return out
    }
    case 'tuple':
      if (!Array.isArray(v) || v.length !== t.items.length) return w.mismatch(t, v)
      return t.items.map((item, i) => w.at(i, `item ${i}`, () => lower(item, v[i], w)))
    case 'record': return lowerRecord(t, v, w)
    case 'variant': return lowerVariant(t, v, w)
    case 'enum': return typeof v === 'string' && t.cases.includes(v) ? v : w.mismatch(t, v)
    case 'flags': {
      if (!Array.isArray(v)) return w.mismatch(t, v)
      const set = new Set<unknown>(v)
      for (const [i, f] of v.entries()) if (typeof f !== 'string' || !t.flags.includes(f)) w.at(i, `element ${i}`, () => w.mismatch(t, f))
      return Object.fromEntries(t.flags.map((f) => [jsName(f), set.has(f)]))
    }
    case 'option': {
      const nullable = jsNullable(t)
      if (v === null || v === undefined) return nullable ? undefined : { tag: 'none' }
      let val: unknown
      if (t.inner.kind === 'option') {
        if (!isObject(v) || Object.keys(v).length !== 1 || !('some' in v)) return w.mismatch(t, v)
        val = w.at('some', 'some', () => lower(t.inner, v.some, w))
      } else {
        val = w.retry(() => lower(t.inner, v, w), () => w.mismatch(t, v))
      }
      return nullable ? val : { tag: 'some', val }
    }
    case 'result': {
      const tag = typeof v === 'string' ? v : isObject(v) && Object.keys(v).length === 1 ? Object.keys(v)[0] : undefined
      if (tag !== 'ok' && tag !== 'err') return w.mismatch(t, v)
      const payload = isObject(v) ? v[tag] : undefined
      const side = t[tag]
      if (side === undefined) {
        if (payload === null || payload === undefined) return { tag }
        return w.at(tag, tag, () => w.fail(`${witType(t)} has no ${tag} value, got ${show(payload)}`, expectedJson(t)))
      }
      if (typeof v === 'string') return w.mismatch(t, v)
      return { tag, val: w.at(tag, tag, () => lower(side, payload, w)) }
    }
    default:
      return w.fail(`${witType(t)} is a resource handle, which cannot be passed as JSON`, expectedJson(t))
  }
}

function lowerBig (t: { kind: 's64' | 'u64' }, v: unknown, w: Walk): bigint {
  const [min, max] = BIG_RANGE[t.kind]
  let n: bigint | undefined
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (!Number.isSafeInteger(v)) return w.mismatch(t, v, ' (integers beyond 2^53 lose precision as JSON numbers: send a decimal string)')
    n = BigInt(v)
  } else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) n = BigInt(v)
  return n !== undefined && n >= min && n <= max ? n : w.mismatch(t, v)
}

function lowerRecord (t: WitType & { kind: 'record' }, v: unknown, w: Walk): Record<string, unknown> {
  if (!isObject(v)) return w.mismatch(t, v)
  const names = t.fields.map((f) => f.name)
  for (const key of Object.keys(v)) {
    if (names.includes(key)) continue
    const meant = names.find((n) => jsName(n) === key)
    w.at(key, `field ${JSON.stringify(key)}`, () => w.fail(`${witType(t)} has no field ${JSON.stringify(key)}` +
      (meant !== undefined ? ` (did you mean ${JSON.stringify(meant)}?)` : `; its fields are ${quoted(names)}`), expectedJson(t)))
  }
  const out: Record<string, unknown> = {}
  for (const f of t.fields) {
    const present = Object.prototype.hasOwnProperty.call(v, f.name)
    if (!present && f.type.kind !== 'option') {
      w.at(f.name, `field ${JSON.stringify(f.name)}`, () => w.fail(`missing field of ${witType(t)}; expected ${expectedJson(f.type)}`, expectedJson(f.type)))
    }
    out[jsName(f.name)] = w.at(f.name, `field ${JSON.stringify(f.name)}`, () => lower(f.type, present ? v[f.name] : null, w))
  }
  return out
}

function lowerVariant (t: WitType & { kind: 'variant' }, v: unknown, w: Walk): { tag: string, val?: unknown } {
  const [name, payload] = typeof v === 'string' ? [v, undefined] : isObject(v) && Object.keys(v).length === 1 ? Object.entries(v)[0] as [string, unknown] : [undefined, undefined]
  const c = t.cases.find((x) => x.name === name)
  if (name === undefined || c === undefined) return w.mismatch(t, v)
  if (c.type === undefined) {
    if (payload !== null && payload !== undefined) return w.at(name, `case ${JSON.stringify(name)}`, () => w.fail(`expected no payload (null), got ${show(payload)}`, expectedJson(t)))
    return { tag: name }
  }
  const type = c.type
  if (typeof v === 'string') return w.fail(`case ${JSON.stringify(name)} needs a payload: {${JSON.stringify(name)}: ${witType(type)}}`, expectedJson(t))
  return { tag: name, val: w.at(name, `case ${JSON.stringify(name)}`, () => lower(type, payload, w)) }
}

function badGuestValue (t: WitType, v: unknown): never {
  throw new ColonyError('internal_error', `the component returned ${show(v)} where ${witType(t)} was expected`)
}

/** The shortest decimal that reads back as the same f32 (jco hands over f32 1.1 as 1.100000023841858). */
function shortestF32 (x: number): number {
  for (let p = 1; p < 9; p++) {
    const y = Number(x.toPrecision(p))
    if (Math.fround(y) === x) return y
  }
  return x
}

/** Converts what jco's binding returned to JSON, for a result of this type. */
export function fromGuest (t: WitType, v: unknown): unknown {
  switch (t.kind) {
    case 'bool': return typeof v === 'boolean' ? v : badGuestValue(t, v)
    case 's8': case 'u8': case 's16': case 'u16': case 's32': case 'u32': return typeof v === 'number' ? v : badGuestValue(t, v)
    case 's64': case 'u64': {
      if (typeof v === 'number') return v
      if (typeof v !== 'bigint') return badGuestValue(t, v)
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()
    }
    case 'f32': case 'f64': {
      if (typeof v !== 'number') return badGuestValue(t, v)
      if (!Number.isFinite(v)) return String(v)
      return t.kind === 'f32' ? shortestF32(v) : v
    }
    case 'char': case 'string': case 'enum': return typeof v === 'string' ? v : badGuestValue(t, v)
    case 'list': {
      if (!Array.isArray(v) && !ArrayBuffer.isView(v)) return badGuestValue(t, v)
      return Array.from(v as ArrayLike<unknown>, (x) => fromGuest(t.element, x))
    }
    case 'tuple': return Array.isArray(v) ? t.items.map((item, i) => fromGuest(item, v[i])) : badGuestValue(t, v)
    case 'record': {
      if (!isObject(v)) return badGuestValue(t, v)
      return Object.fromEntries(t.fields.map((f) => [f.name, fromGuest(f.type, v[jsName(f.name)])]))
    }
    case 'variant': {
      const c = isObject(v) ? t.cases.find((x) => x.name === v.tag) : undefined
      if (c === undefined) return badGuestValue(t, v)
      return c.type === undefined ? c.name : { [c.name]: fromGuest(c.type, (v as { val?: unknown }).val) }
    }
    case 'flags': return isObject(v) ? t.flags.filter((f) => v[jsName(f)] === true) : badGuestValue(t, v)
    case 'option': {
      const nullable = jsNullable(t)
      if (nullable ? v === undefined || v === null : isObject(v) && v.tag === 'none') return null
      if (!nullable && !(isObject(v) && v.tag === 'some')) return badGuestValue(t, v)
      const inner = fromGuest(t.inner, nullable ? v : (v as { val?: unknown }).val)
      return t.inner.kind === 'option' ? { some: inner } : inner
    }
    case 'result': {
      if (!isObject(v) || (v.tag !== 'ok' && v.tag !== 'err')) return badGuestValue(t, v)
      const side = t[v.tag]
      return { [v.tag]: side === undefined ? null : fromGuest(side, v.val) }
    }
    default: return badGuestValue(t, v)
  }
}

/**
 * Where jco puts a function on an instance: `['local:adder/math', 'add']` (an interface's full id, version
 * included, always works; the short alias `math` is left out when two interfaces share it), `['myApi', 'f']` for an
 * inline interface exported under a plain kebab name, `['sayHi']` for a world-level function.
 */
export function exportPath (fn: WitFunction): string[] {
  if (fn.interface === undefined) return [jsName(fn.name)]
  return [fn.interface.includes(':') ? fn.interface : jsName(fn.interface), jsName(fn.name)]
}

/**
 * When a `result<T, E>` function threw, its E payload; undefined when what was thrown is a real failure (a trap,
 * a TypeError). jco-transpile 0.15 throws E itself (`noComponentErrorWrapping` defaults to true: a string E is
 * thrown as a string, an E-less result throws undefined); with `noComponentErrorWrapping: false` it throws a
 * `ComponentError` (an Error) whose `payload` is E.
 */
export function thrownResultError (fn: WitFunction, thrown: unknown): { payload: unknown } | undefined {
  if (fn.result?.kind !== 'result') return undefined
  if (!(thrown instanceof Error)) return { payload: thrown }
  if (thrown.constructor.name === 'ComponentError' && 'payload' in thrown) return { payload: thrown.payload }
  return undefined
}

/**
 * Calls a function on a jco instance with jco-ready arguments (from `toGuest`). A `result` function's outcome
 * comes back as jco writes a nested result, `{tag: 'ok', val}` or `{tag: 'err', val}`, so that
 * `fromGuest(fn.result, value)` turns either into JSON (`{"ok": ...}` / `{"err": ...}`). Traps are rethrown.
 */
export function callExport (exportsObject: Record<string, unknown>, fn: WitFunction, jsArgs: unknown[]): unknown {
  let target: unknown = exportsObject
  for (const key of exportPath(fn)) target = (target as Record<string, unknown> | undefined)?.[key]
  if (typeof target !== 'function') throw new ColonyError('function_not_found', `the instance has no export ${exportPath(fn).join('.')}`)
  try {
    const value: unknown = (target as (...args: unknown[]) => unknown)(...jsArgs)
    return fn.result?.kind === 'result' ? { tag: 'ok', val: value } : value
  } catch (err) {
    const e = thrownResultError(fn, err)
    if (e === undefined) throw err
    return { tag: 'err', val: e.payload }
  }
}
