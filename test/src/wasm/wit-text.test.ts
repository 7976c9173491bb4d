import assert from 'node:assert/strict'
import type { WitFunction, WitType } from '../../../src/wasm/types.js'
import { expectedJson, namedTypes, witDefinition, witFunction, witType } from '../../../src/wasm/wit-text.js'

const s32: WitType = { kind: 's32' }
const point: WitType = { kind: 'record', name: 'point', fields: [{ name: 'x', type: s32 }, { name: 'y', type: s32 }] }
const shape: WitType = { kind: 'variant', name: 'shape', cases: [{ name: 'circle', type: { kind: 'f64' } }, { name: 'rect', type: point }, { name: 'none' }] }

describe('wasm/wit-text', () => {
  it('renders the brief\'s example', () => {
    assert.equal(witFunction({ name: 'add', interface: 'local:adder/math', params: [{ name: 'a', type: s32 }, { name: 'b', type: s32 }], result: s32 }),
      'add: func(a: s32, b: s32) -> s32')
  })

  it('renders functions without parameters or results, and escapes WIT keywords', () => {
    assert.equal(witFunction({ name: 'run', params: [] }), 'run: func()')
    assert.equal(witFunction({ name: 'type', params: [{ name: 'list', type: { kind: 'string' } }] }), '%type: func(%list: string)')
    assert.equal(witFunction({ name: '[method]counter.inc', params: [{ name: 'self', type: { kind: 'borrow', resource: 'counter' } }], result: { kind: 'u32' } }),
      '[method]counter.inc: func(self: borrow<counter>) -> u32')
  })

  it('renders types by name, or by structure when anonymous', () => {
    assert.equal(witType({ kind: 'list', element: point }), 'list<point>')
    assert.equal(witType({ kind: 'tuple', items: [s32, { kind: 'string' }] }), 'tuple<s32, string>')
    assert.equal(witType({ kind: 'option', inner: { kind: 'char' } }), 'option<char>')
    assert.equal(witType({ kind: 'result' }), 'result')
    assert.equal(witType({ kind: 'result', ok: s32 }), 'result<s32>')
    assert.equal(witType({ kind: 'result', err: { kind: 'string' } }), 'result<_, string>')
    assert.equal(witType({ kind: 'result', ok: s32, err: shape }), 'result<s32, shape>')
    assert.equal(witType({ kind: 'own', resource: 'counter' }), 'counter')
    assert.equal(witType({ kind: 'record', fields: [{ name: 'a', type: s32 }] }), 'record { a: s32 }')
    assert.equal(witType({ kind: 'enum', cases: ['a', 'b'] }), 'enum { a, b }')
    assert.equal(witType({ kind: 'flags', flags: ['r'] }), 'flags { r }')
    assert.equal(witType({ kind: 'variant', cases: [{ name: 'a', type: s32 }, { name: 'b' }] }), 'variant { a(s32), b }')
  })

  it('renders definitions of named types', () => {
    assert.equal(witDefinition(point), 'record point { x: s32, y: s32 }')
    assert.equal(witDefinition(shape), 'variant shape { circle(f64), rect(point), none }')
    assert.equal(witDefinition({ kind: 'enum', name: 'color', cases: ['red', 'green-ish'] }), 'enum color { red, green-ish }')
    assert.equal(witDefinition({ kind: 'list', element: s32 }), undefined)
    assert.equal(witDefinition({ kind: 'record', fields: [] }), undefined)
  })

  it('collects the named types of a set of functions, nested ones first, each once', () => {
    const fns: WitFunction[] = [
      { name: 'f', params: [{ name: 's', type: { kind: 'list', element: shape } }], result: point },
      { name: 'g', params: [{ name: 'p', type: { kind: 'option', inner: point } }] },
    ]
    assert.deepEqual(namedTypes(fns).map(witDefinition), ['record point { x: s32, y: s32 }', 'variant shape { circle(f64), rect(point), none }'])
  })

  it('describes the JSON a type takes', () => {
    assert.equal(expectedJson({ kind: 'u8' }), 'u8 (an integer from 0 to 255)')
    assert.equal(expectedJson(point), 'point (an object with the fields "x", "y")')
    const many: WitType = { kind: 'enum', cases: Array.from({ length: 20 }, (_, i) => `c${i}`) }
    assert.match(expectedJson(many), /"c11", \.\.\. \(20 in all\)\)$/)
  })
})
