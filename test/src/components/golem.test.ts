import assert from 'node:assert/strict'
import { ColonyError } from '../../../src/errors.js'
import { displayName, golemTyp, invokeResult, resolveFunction } from '../../../src/components/golem.js'
import type { ComponentMetadata, WitFunction, WitType } from '../../../src/wasm/types.js'

const s32: WitType = { kind: 's32' }
const point: WitType = { kind: 'record', name: 'point', fields: [{ name: 'x', type: s32 }, { name: 'y', type: s32 }] }

function meta (...exports: WitFunction[]): ComponentMetadata {
  return { exports, imports: [], exportedInterfaces: [...new Set(exports.flatMap((f) => f.interface ?? []))] }
}

function fails (m: ComponentMetadata, name: string, code: string, message: string): ColonyError {
  let caught: ColonyError | undefined
  assert.throws(() => resolveFunction(m, name), (err: unknown) => {
    assert.ok(err instanceof ColonyError)
    assert.equal(err.code, code)
    assert.equal(err.message, message)
    caught = err
    return true
  })
  return caught as ColonyError
}

describe('components/golem', () => {
  describe('golemTyp', () => {
    it('maps every primitive to Golem\'s name', () => {
      const names = { bool: 'Bool', s8: 'S8', u8: 'U8', s16: 'S16', u16: 'U16', s32: 'S32', u32: 'U32', s64: 'S64', u64: 'U64', f32: 'F32', f64: 'F64', char: 'Chr', string: 'Str' }
      for (const [kind, type] of Object.entries(names)) assert.deepEqual(golemTyp({ kind } as WitType), { type })
    })

    it('maps composite types, keeping the names of named types', () => {
      assert.deepEqual(golemTyp({ kind: 'list', element: { kind: 'u8' } }), { type: 'List', inner: { type: 'U8' } })
      assert.deepEqual(golemTyp({ kind: 'tuple', items: [s32, { kind: 'string' }] }), { type: 'Tuple', items: [{ type: 'S32' }, { type: 'Str' }] })
      assert.deepEqual(golemTyp(point), { type: 'Record', name: 'point', fields: [{ name: 'x', typ: { type: 'S32' } }, { name: 'y', typ: { type: 'S32' } }] })
      assert.deepEqual(golemTyp({ kind: 'variant', cases: [{ name: 'circle', type: { kind: 'f64' } }, { name: 'none' }] }),
        { type: 'Variant', cases: [{ name: 'circle', typ: { type: 'F64' } }, { name: 'none' }] })
      assert.deepEqual(golemTyp({ kind: 'enum', name: 'color', cases: ['red', 'blue'] }), { type: 'Enum', name: 'color', cases: ['red', 'blue'] })
      assert.deepEqual(golemTyp({ kind: 'flags', flags: ['read', 'write'] }), { type: 'Flags', names: ['read', 'write'] })
      assert.deepEqual(golemTyp({ kind: 'option', inner: point }).inner, golemTyp(point))
      assert.deepEqual(golemTyp({ kind: 'result', ok: s32, err: { kind: 'string' } }), { type: 'Result', ok: { type: 'S32' }, err: { type: 'Str' } })
      assert.deepEqual(golemTyp({ kind: 'result', err: { kind: 'string' } }), { type: 'Result', err: { type: 'Str' } })
      assert.deepEqual(golemTyp({ kind: 'result' }), { type: 'Result' })
      assert.deepEqual(golemTyp({ kind: 'own', resource: 'counter' }), { type: 'Handle', resource: 'counter', mode: 'Owned' })
      assert.deepEqual(golemTyp({ kind: 'borrow', resource: 'counter' }), { type: 'Handle', resource: 'counter', mode: 'Borrowed' })
    })
  })

  describe('invokeResult', () => {
    it('wraps the value in a one-item tuple', () => {
      const add: WitFunction = { name: 'add', params: [], result: { kind: 'u64' } }
      assert.deepEqual(invokeResult(add, 5), { result: { typ: { type: 'Tuple', items: [{ type: 'U64' }] }, value: [5] } })
    })

    it('is an empty tuple for a function without a result', () => {
      assert.deepEqual(invokeResult({ name: 'run', params: [] }, undefined), { result: { typ: { type: 'Tuple', items: [] }, value: [] } })
    })
  })

  describe('resolveFunction', () => {
    const add: WitFunction = { name: 'add', interface: 'local:adder/math', params: [], result: s32 }
    const sub: WitFunction = { name: 'sub', interface: 'local:adder/math', params: [] }
    const run: WitFunction = { name: 'run', interface: 'wasi:cli/run@0.2.3', params: [] }
    const hello: WitFunction = { name: 'hello', params: [] }
    const inc: WitFunction = { name: '[method]counter.inc-by', interface: 'rpc:counters/api', params: [] }
    const m = meta(add, sub, run, hello, inc)

    for (const name of ['add', 'math.add', 'math/add', 'math.{add}', 'local:adder/math.{add}', 'local:adder/math.add', 'local:adder/math#add', 'local:adder/math/add']) {
      it(`finds ${name}`, () => assert.equal(resolveFunction(m, name), add))
    }

    it('finds versioned interfaces with or without the version, and world-level functions', () => {
      for (const name of ['run', 'run.run', 'wasi:cli/run@0.2.3.{run}', 'wasi:cli/run.{run}', 'wasi:cli/run@0.2.3#run', 'wasi:cli/run/run']) {
        assert.equal(resolveFunction(m, name), run, name)
      }
      assert.equal(resolveFunction(m, 'hello'), hello)
      assert.equal(resolveFunction(m, 'rpc:counters/api.{[method]counter.inc-by}'), inc)
    })

    it('a name several exports answer to is ambiguous and lists them', () => {
      const other: WitFunction = { name: 'add', interface: 'local:other/math@1.0.0', params: [] }
      const world: WitFunction = { name: 'add', params: [] }
      const two = meta(add, other, world)
      const err = fails(two, 'add', 'function_ambiguous', '"add" matches 3 exports: local:adder/math.{add}, local:other/math@1.0.0.{add}, add; use the full name')
      assert.equal(err.status, 400)
      assert.deepEqual(err.details, { matches: ['local:adder/math.{add}', 'local:other/math@1.0.0.{add}', 'add'] })
      fails(two, 'math.add', 'function_ambiguous', '"math.add" matches 2 exports: local:adder/math.{add}, local:other/math@1.0.0.{add}; use the full name')
      assert.equal(resolveFunction(two, 'local:other/math.{add}'), other)
    })

    it('an unknown name is function_not_found and lists what exists', () => {
      const err = fails(m, 'mul', 'function_not_found',
        'the component exports no function "mul"; it exports local:adder/math.{add}, local:adder/math.{sub}, wasi:cli/run@0.2.3.{run}, hello, rpc:counters/api.{[method]counter.inc-by}')
      assert.equal(err.status, 404)
      fails(m, 'other.add', 'function_not_found', err.message.replace('"mul"', '"other.add"'))
      fails(meta(), 'x', 'function_not_found', 'the component exports no function "x"; it exports no functions')
    })

    it('displayName is Golem\'s spelling', () => {
      assert.equal(displayName(add), 'local:adder/math.{add}')
      assert.equal(displayName(hello), 'hello')
    })
  })
})
