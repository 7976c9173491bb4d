/**
 * Round trips through real jco bindings: JSON -> toGuest -> a transpiled component that returns its argument ->
 * fromGuest -> JSON. Also pins down jco's own representation of each kind, which values.ts relies on.
 */
import assert from 'node:assert/strict'
import { inspectComponent } from '../../../src/wasm/inspect.js'
import type { ComponentMetadata, WitFunction } from '../../../src/wasm/types.js'
import { callExport, exportPath, fromGuest, toGuest } from '../../../src/wasm/values.js'
import { echoComponent, instantiate, PAD_VALUE, type Loaded } from './fixtures.js'

describe('wasm/values through jco', function () {
  this.timeout(30_000)
  let meta: ComponentMetadata
  let jco: Loaded

  before(async () => {
    const bytes = await echoComponent()
    meta = await inspectComponent(bytes)
    jco = await instantiate(bytes)
  })
  after(async () => { await jco?.close() })

  const fn = (name: string): WitFunction => meta.exports.find((f) => f.name === name) as WitFunction

  /** JSON in, JSON out, through the component. The pad parameter (if any) is filled in. */
  function echo (name: string, json: unknown): unknown {
    const f = fn(name)
    const args = f.params.map((p, i) => toGuest(p.type, i === 0 ? json : PAD_VALUE, p.name))
    return fromGuest(f.result!, callExport(jco.exports, f, args))
  }

  /** What jco's binding itself returns for these JSON arguments (no Colony conversion on the way back). */
  function raw (name: string, json: unknown): unknown {
    const f = fn(name)
    const path = exportPath(f)
    const owner = (path.length === 2 ? jco.exports[path[0] as string] : jco.exports) as Record<string, (...a: unknown[]) => unknown>
    const method = owner[path[path.length - 1] as string] as (...a: unknown[]) => unknown
    return method(...f.params.map((p, i) => toGuest(p.type, i === 0 ? json : PAD_VALUE, p.name)))
  }

  const cases: Array<[string, unknown, unknown?]> = [
    ['echo-line', { start: { x: 1, y: -2 }, 'end-point': { x: 3, y: 4 }, color: 'green-ish', label: 'hi' }],
    ['echo-line', { start: { x: 0, y: 0 }, 'end-point': { x: 0, y: 0 }, color: 'BLUE', label: null }],
    ['echo-shape', { circle: 1.5 }], ['echo-shape', { rect: { x: 1, y: 2 } }], ['echo-shape', 'none'],
    ['echo-opt', 'x'], ['echo-opt', null],
    ['echo-opt-opt', null], ['echo-opt-opt', { some: null }], ['echo-opt-opt', { some: 7 }],
    ['echo-res', { ok: 'yes' }], ['echo-res', { err: 'BLUE' }],
    ['echo-res-unit', { ok: null }], ['echo-res-unit', { err: null }],
    ['echo-res-no-err', { ok: 5 }], ['echo-res-no-err', { err: null }],
    ['echo-results', [{ ok: 1 }, { err: 'bad' }]],
    ['echo-perms', ['can-read', 'x2-y']], ['echo-perms', []], ['echo-color', 'BLUE'],
    ['echo-bytes', [0, 1, 255]], ['echo-s16s', [-32768, 32767]], ['echo-u64s', [0, '18446744073709551615', 9007199254740991]],
    ['echo-f32s', [1.1, -0.5]], ['echo-strings', ['a', 'héllo', '😀']], ['echo-chars', ['a', '😀']],
    ['echo-tuple', [-128, 65535, 'z', true]], ['echo-char', '😀'], ['echo-char', 0x41, 'A'],
    ['echo-u64', '18446744073709551615'], ['echo-u64', 12], ['echo-u64', '12', 12], ['echo-s64', '-9223372036854775808'],
    ['echo-f32', 3.14], ['echo-f64', 'NaN'], ['echo-f64', 0.1], ['echo-s8', -128], ['echo-u32', 4294967295], ['echo-bool', true],
  ]
  for (const [name, json, expected] of cases) {
    it(`${name} ${JSON.stringify(json)}`, () => {
      assert.deepEqual(echo(name, json), expected === undefined ? json : expected)
    })
  }

  it('world-level functions are found by their camelCase name', () => {
    assert.deepEqual(exportPath(fn('echo-name')), ['echoName'])
    assert.equal(echo('echo-name', 'bob'), 'bob')
  })

  describe('jco\'s representation', () => {
    it('records have camelCase fields; enums and variant tags keep WIT names', () => {
      assert.deepEqual(raw('echo-line', { start: { x: 1, y: 2 }, 'end-point': { x: 3, y: 4 }, color: 'green-ish' }),
        { start: { x: 1, y: 2 }, endPoint: { x: 3, y: 4 }, color: 'green-ish', label: undefined })
      assert.deepEqual(raw('echo-shape', { rect: { x: 1, y: 2 } }), { tag: 'rect', val: { x: 1, y: 2 } })
    })

    it('flags are an object of every flag in camelCase; lists of numbers are typed arrays; 64-bit ints are BigInt', () => {
      assert.deepEqual(raw('echo-perms', ['WRITE-all']), { canRead: false, writeAll: true, x2Y: false })
      assert.ok(raw('echo-bytes', [1]) instanceof Uint8Array)
      assert.ok(raw('echo-s16s', [1]) instanceof Int16Array)
      assert.ok(raw('echo-u64s', [1]) instanceof BigUint64Array)
      assert.ok(raw('echo-f32s', [1]) instanceof Float32Array)
      assert.ok(Array.isArray(raw('echo-strings', ['a'])))
      assert.equal(raw('echo-u64', 1), 1n)
    })

    it('option<T> is T | undefined, option<option<T>> is tagged; nested results are tagged', () => {
      assert.equal(raw('echo-opt', null), undefined)
      assert.deepEqual(raw('echo-opt-opt', { some: null }), { tag: 'some', val: undefined })
      assert.deepEqual(raw('echo-results', [{ err: 'x' }]), [{ tag: 'err', val: 'x' }])
    })

    it('a top-level result returns T and throws E itself (jco-transpile 0.15 default)', () => {
      assert.equal(raw('echo-res', { ok: 'y' }), 'y')
      assert.throws(() => raw('echo-res', { err: 'red' }), (thrown: unknown) => thrown === 'red')
      assert.throws(() => raw('echo-res-unit', { err: null }), (thrown: unknown) => thrown === undefined)
    })

    it('jco itself does not range-check numbers, which is why toGuest does', () => {
      const f = fn('echo-s8')
      assert.equal((jco.exports[exportPath(f)[0] as string] as Record<string, (v: number) => number>)[exportPath(f)[1] as string]!(200), -56)
    })
  })

  it('callExport rethrows what is not a result error (a TypeError from jco\'s lowering)', () => {
    assert.throws(() => callExport(jco.exports, fn('echo-res'), [{ tag: 'bogus' }, PAD_VALUE]), TypeError)
    assert.throws(() => callExport(jco.exports, fn('echo-bytes'), [[300], PAD_VALUE]), /invalid u8 value/)
  })

  describe('with noComponentErrorWrapping: false (jco wraps E in a ComponentError)', () => {
    let wrapped: Loaded
    before(async () => { wrapped = await instantiate(await echoComponent(), { noComponentErrorWrapping: false }) })
    after(async () => { await wrapped?.close() })

    it('the error payload still comes back as {"err": ...}', () => {
      const f = fn('echo-res')
      const out = callExport(wrapped.exports, f, [toGuest(f.params[0]!.type, { err: 'green-ish' }, 'v'), PAD_VALUE])
      assert.deepEqual(fromGuest(f.result!, out), { err: 'green-ish' })
    })

    it('a trap in a result function is a failure, not an err (runs last: a trap poisons the instance)', () => {
      assert.throws(() => callExport(wrapped.exports, fn('boom'), []), (err: unknown) => err instanceof Error && err.constructor.name === 'RuntimeError')
    })
  })
})
