import assert from 'node:assert/strict'
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools'
import { ColonyError } from '../../../src/errors.js'
import { inspectComponent } from '../../../src/wasm/inspect.js'
import { decodeComponent } from '../../../src/wasm/component-decoder.js'
import type { ComponentMetadata, WitFunction, WitType } from '../../../src/wasm/types.js'
import { ALLOCATOR, buildComponent, echoComponent } from './fixtures.js'

const s32: WitType = { kind: 's32' }
const point: WitType = { kind: 'record', name: 'point', fields: [{ name: 'x', type: s32 }, { name: 'y', type: s32 }] }
const color: WitType = { kind: 'enum', name: 'color', cases: ['red', 'green-ish', 'BLUE'] }

function fn (m: ComponentMetadata, name: string): WitFunction {
  const found = m.exports.find((f) => f.name === name)
  assert.ok(found, `no export ${name} in ${m.exports.map((f) => f.name).join(', ')}`)
  return found
}

async function rejects (bytes: Uint8Array, message: RegExp): Promise<void> {
  await assert.rejects(inspectComponent(bytes), (err: unknown) => {
    assert.ok(err instanceof ColonyError)
    assert.equal(err.code, 'component_invalid')
    assert.equal(err.status, 400)
    assert.match(err.message, message)
    return true
  })
}

describe('wasm/inspect', () => {
  it('reads an exported interface function (the jco adder)', async () => {
    const bytes = await buildComponent('(module (func (export "local:adder/math#add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))',
      'package local:adder; interface math { add: func(a: s32, b: s32) -> s32; } world adder { export math; }', 'adder')
    assert.deepEqual(await inspectComponent(bytes), {
      exports: [{ name: 'add', interface: 'local:adder/math', params: [{ name: 'a', type: s32 }, { name: 'b', type: s32 }], result: s32 }],
      imports: [],
      exportedInterfaces: ['local:adder/math'],
    })
  })

  describe('the echo component (every value kind, named types used by other named types)', () => {
    let m: ComponentMetadata
    before(async () => { m = await inspectComponent(await echoComponent()) })

    it('lists world-level and interface functions in export order, with the interfaces; a types-only import needs no link and is left out', () => {
      assert.deepEqual(m.exportedInterfaces, ['local:echo/api'])
      assert.deepEqual(m.imports, [])
      assert.equal(m.exports.length, 27)
      assert.deepEqual(fn(m, 'echo-name'), { name: 'echo-name', params: [{ name: 'name', type: { kind: 'string' } }], result: { kind: 'string' } })
      assert.equal(fn(m, 'echo-line').interface, 'local:echo/api')
    })

    it('resolves records whose fields are other named types, with kebab-case names kept', () => {
      const line = fn(m, 'echo-line')
      assert.deepEqual(line.result, {
        kind: 'record',
        name: 'line',
        fields: [
          { name: 'start', type: point }, { name: 'end-point', type: point }, { name: 'color', type: color },
          { name: 'label', type: { kind: 'option', inner: { kind: 'string' } } },
        ],
      })
      assert.deepEqual(line.params.map((p) => p.name), ['v', 'p'])
      assert.deepEqual(line.params[1]?.type, { kind: 'tuple', items: new Array(16).fill({ kind: 'u8' }) })
    })

    it('reads variants, flags, options, results and lists', () => {
      assert.deepEqual(fn(m, 'echo-shape').result, {
        kind: 'variant', name: 'shape', cases: [{ name: 'circle', type: { kind: 'f64' } }, { name: 'rect', type: point }, { name: 'none' }],
      })
      assert.deepEqual(fn(m, 'echo-perms').result, { kind: 'flags', name: 'perms', flags: ['can-read', 'WRITE-all', 'x2-y'] })
      assert.deepEqual(fn(m, 'echo-opt-opt').result, { kind: 'option', inner: { kind: 'option', inner: { kind: 'u8' } } })
      assert.deepEqual(fn(m, 'echo-res').result, { kind: 'result', ok: { kind: 'string' }, err: color })
      assert.deepEqual(fn(m, 'echo-res-unit').result, { kind: 'result' })
      assert.deepEqual(fn(m, 'echo-res-no-err').result, { kind: 'result', ok: { kind: 'u32' } })
      assert.deepEqual(fn(m, 'echo-results').result, { kind: 'list', element: { kind: 'result', ok: { kind: 'u8' }, err: { kind: 'string' } } })
      assert.deepEqual(fn(m, 'echo-tuple').result, { kind: 'tuple', items: [{ kind: 's8' }, { kind: 'u16' }, { kind: 'string' }, { kind: 'bool' }] })
    })
  })

  it('reads every primitive type', async () => {
    const prims = ['bool', 's8', 'u8', 's16', 'u16', 's32', 'u32', 's64', 'u64', 'f32', 'f64', 'char', 'string'] as const
    const wit = `package local:prims; interface p { all: func(${prims.map((p, i) => `a${i}: ${p}`).join(', ')}); } world w { export p; }`
    const core = `(module ${ALLOCATOR} (func (export "local:prims/p#all") (param i32 i32 i32 i32 i32 i32 i32 i64 i64 f32 f64 i32 i32 i32)))`
    const m = await inspectComponent(await buildComponent(core, wit, 'w'))
    assert.deepEqual(fn(m, 'all'), { name: 'all', interface: 'local:prims/p', params: prims.map((kind, i) => ({ name: `a${i}`, type: { kind } })) })
  })

  it('names resources in handles, keeps world-level types, and lists imported interfaces', async () => {
    const wit = `package local:res;
interface api {
  resource counter { constructor(start: u32); inc: func(by: u32) -> u32; merge: static func(a: borrow<counter>, b: counter) -> counter; }
  make: func() -> counter;
}
world w {
  import wasi:keyvalue/store@0.2.0-draft;
  import logger: interface { log: func(msg: string); }
  record pt { x: f32, y: f32 }
  export api;
  export top: func(p: pt) -> list<pt>;
}
package wasi:keyvalue@0.2.0-draft { interface store { get: func(k: string) -> option<list<u8>>; } }`
    const core = `(module
  (import "wasi:keyvalue/store@0.2.0-draft" "get" (func (param i32 i32 i32)))
  (import "logger" "log" (func (param i32 i32)))
  ${ALLOCATOR}
  (func (export "local:res/api#[constructor]counter") (param i32) (result i32) i32.const 0)
  (func (export "local:res/api#[method]counter.inc") (param i32 i32) (result i32) i32.const 0)
  (func (export "local:res/api#[static]counter.merge") (param i32 i32) (result i32) i32.const 0)
  (func (export "local:res/api#make") (result i32) i32.const 0)
  (func (export "top") (param f32 f32) (result i32) i32.const 0))`
    const m = await inspectComponent(await buildComponent(core, wit, 'w'))
    const own: WitType = { kind: 'own', resource: 'counter' }
    const borrow: WitType = { kind: 'borrow', resource: 'counter' }
    assert.deepEqual(m.imports, ['wasi:keyvalue/store@0.2.0-draft', 'logger'])
    assert.deepEqual(m.exportedInterfaces, ['local:res/api'])
    assert.deepEqual(fn(m, '[constructor]counter').result, own)
    assert.deepEqual(fn(m, '[method]counter.inc').params, [{ name: 'self', type: borrow }, { name: 'by', type: { kind: 'u32' } }])
    assert.deepEqual(fn(m, '[static]counter.merge'), {
      name: '[static]counter.merge', interface: 'local:res/api', params: [{ name: 'a', type: borrow }, { name: 'b', type: own }], result: own,
    })
    assert.deepEqual(fn(m, 'make').result, own)
    const pt: WitType = { kind: 'record', name: 'pt', fields: [{ name: 'x', type: { kind: 'f32' } }, { name: 'y', type: { kind: 'f32' } }] }
    assert.deepEqual(fn(m, 'top'), { name: 'top', params: [{ name: 'p', type: pt }], result: { kind: 'list', element: pt } })
  })

  it('reports versioned WASI-style interface names as imports and exports', async () => {
    const wit = `package local:cmd;
world cmd { import wasi:cli/stdout@0.2.3; export wasi:cli/run@0.2.3; }
package wasi:cli@0.2.3 { interface stdout { write: func(s: string); } interface run { run: func() -> result; } }`
    const core = `(module (import "wasi:cli/stdout@0.2.3" "write" (func (param i32 i32))) ${ALLOCATOR}
  (func (export "wasi:cli/run@0.2.3#run") (result i32) i32.const 0))`
    assert.deepEqual(await inspectComponent(await buildComponent(core, wit, 'cmd')), {
      exports: [{ name: 'run', interface: 'wasi:cli/run@0.2.3', params: [], result: { kind: 'result' } }],
      imports: ['wasi:cli/stdout@0.2.3'],
      exportedInterfaces: ['wasi:cli/run@0.2.3'],
    })
  })

  it('follows hand-written structure: inline instances, re-exported imports, nested components, outer aliases', async () => {
    const bytes = await parse(`(component
  (type $point (record (field "x" s32) (field "y" s32)))
  (import "pt" (type $pt (eq $point)))
  (import "host" (instance $host (export "f" (func (param "a" u8) (result u8))) (export "g" (func (param "p" $pt) (result u8)))))
  (alias export $host "f" (func $f))
  (alias export $host "g" (func $g))
  (component $inner
    (alias outer 1 $pt (type $p))
    (import "g" (func $g (param "p" $p) (result u8)))
    (export "g2" (func $g)))
  (instance $i (instantiate $inner (with "g" (func $g))))
  (alias export $i "g2" (func $g2))
  (instance $inline (export "f" (func $f)) (export "g2" (func $g2)) (export "point" (type $pt)))
  (export "local:x/iface" (instance $inline))
  (export "direct" (func $f)))`)
    const u8: WitType = { kind: 'u8' }
    const pt: WitType = { kind: 'record', name: 'pt', fields: [{ name: 'x', type: s32 }, { name: 'y', type: s32 }] }
    assert.deepEqual(await inspectComponent(bytes), {
      exports: [
        { name: 'f', interface: 'local:x/iface', params: [{ name: 'a', type: u8 }], result: u8 },
        { name: 'g2', interface: 'local:x/iface', params: [{ name: 'p', type: pt }], result: u8 },
        { name: 'direct', params: [{ name: 'a', type: u8 }], result: u8 },
      ],
      imports: ['host'],
      exportedInterfaces: ['local:x/iface'],
    })
  })

  it('leaves out (and says so) functions whose types it cannot represent', async () => {
    const bytes = await parse(`(component
  (import "host" (instance $host (export "s" (func (param "x" (stream u8)))) (export "ok" (func (param "x" u8)))))
  (alias export $host "s" (func $s))
  (alias export $host "ok" (func $ok))
  (export "s" (func $s))
  (export "ok" (func $ok)))`)
    const decoded = decodeComponent(bytes)
    assert.deepEqual(decoded.exports.map((f) => f.name), ['ok'])
    assert.deepEqual(decoded.skipped, [{ name: 's', reason: 'uses stream' }])
  })

  describe('refuses what is not a readable component', () => {
    it('empty input', () => rejects(new Uint8Array(), /^the component is empty \(0 bytes\)$/))
    it('garbage', () => rejects(new TextEncoder().encode('hello, world'), /^not WebAssembly: the file does not start with the "\\0asm" magic bytes$/))
    it('a core module', async () => rejects(await parse('(module (func (export "f")))'),
      /^this is a core WebAssembly module \(version 01 00 00 00\), not a component \(0d 00 01 00\); wrap it/))
    it('an unknown component encoding', () => rejects(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0c, 0, 1, 0]), /unsupported WebAssembly version\/layer bytes 0c 00 01 00/))
    it('a truncated component, in the words of the tools', async () => {
      const bytes = await echoComponent()
      await rejects(bytes.subarray(0, bytes.length - 40), /^the component cannot be read: unexpected end-of-file \(at offset 0x[0-9a-f]+\)$/)
    })
    it('a section whose types make no sense', () => rejects(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 0x07, 0x02, 0x01, 0x99]),
      /^the component's types cannot be read: unknown type constructor 0x99 \(at byte 0xb\)$/))
    it('a type that refers to an index not yet defined', () => rejects(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 0x07, 0x03, 0x01, 0x70, 0x05]),
      /type index 5 is out of range \(0 defined\)/))
    it('a vector longer than its section', () => assert.throws(() => decodeComponent(new Uint8Array([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0, 0x07, 0x02, 0x7f, 0x00])),
      /vector of 127 items does not fit/))
  })

  it('a component importing nothing and exporting nothing is fine', async () => {
    assert.deepEqual(await inspectComponent(await parse('(component)')), { exports: [], imports: [], exportedInterfaces: [] })
  })
})
