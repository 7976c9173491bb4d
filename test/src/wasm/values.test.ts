import assert from 'node:assert/strict'
import { ColonyError } from '../../../src/errors.js'
import type { WitType } from '../../../src/wasm/types.js'
import { fromGuest, jsName, jsNullable, toGuest } from '../../../src/wasm/values.js'

const s32: WitType = { kind: 's32' }
const point: WitType = { kind: 'record', name: 'point', fields: [{ name: 'x', type: s32 }, { name: 'y', type: s32 }] }
const color: WitType = { kind: 'enum', name: 'color', cases: ['red', 'green-ish', 'BLUE'] }
const shape: WitType = { kind: 'variant', name: 'shape', cases: [{ name: 'circle', type: { kind: 'f64' } }, { name: 'rect', type: point }, { name: 'none' }] }
const perms: WitType = { kind: 'flags', name: 'perms', flags: ['can-read', 'WRITE-all', 'x2-y'] }
const line: WitType = {
  kind: 'record', name: 'line',
  fields: [{ name: 'start', type: point }, { name: 'end-point', type: point }, { name: 'label', type: { kind: 'option', inner: { kind: 'string' } } }],
}

/** Asserts toGuest refuses `json` with exactly this message and JSON-pointer path. */
function refuses (type: WitType, json: unknown, message: string, path = ''): void {
  assert.throws(() => toGuest(type, json, 'p'), (err: unknown) => {
    assert.ok(err instanceof ColonyError)
    assert.equal(err.code, 'invalid_params')
    assert.equal(err.status, 400)
    assert.equal(err.message, message)
    assert.equal(err.details?.param, 'p')
    assert.equal(err.details?.path, path)
    assert.equal(typeof err.details?.expected, 'string')
    return true
  })
}

describe('wasm/values', () => {
  it('jsName is jco\'s lowerCamelCase', () => {
    assert.equal(jsName('end-point'), 'endPoint')
    assert.equal(jsName('HTTP-code'), 'httpCode')
    assert.equal(jsName('get-URL'), 'getUrl')
    assert.equal(jsName('x2-y'), 'x2Y')
    assert.equal(jsName('add'), 'add')
  })

  describe('integers', () => {
    const ranges: Array<[WitType['kind'], number, number]> = [['s8', -128, 127], ['u8', 0, 255], ['s16', -32768, 32767], ['u16', 0, 65535], ['s32', -2147483648, 2147483647], ['u32', 0, 4294967295]]
    for (const [kind, min, max] of ranges) {
      it(`${kind} takes ${min}..${max} and nothing else`, () => {
        const t = { kind } as WitType
        assert.equal(toGuest(t, min, 'p'), min)
        assert.equal(toGuest(t, max, 'p'), max)
        const expected = `${kind} (an integer from ${min} to ${max})`
        refuses(t, max + 1, `parameter "p": expected ${expected}, got ${max + 1}`)
        refuses(t, min - 1, `parameter "p": expected ${expected}, got ${min - 1}`)
        refuses(t, 1.5, `parameter "p": expected ${expected}, got 1.5`)
        refuses(t, '1', `parameter "p": expected ${expected}, got "1"`)
        assert.equal(fromGuest(t, max), max)
      })
    }

    it('the brief\'s example message', () => {
      refuses(point, { x: 'abc', y: 1 }, 'parameter "p": field "x": expected s32 (an integer from -2147483648 to 2147483647), got "abc"', '/x')
    })

    it('u64 and s64: numbers or decimal strings in, BigInt to jco, numbers or strings back', () => {
      const u64: WitType = { kind: 'u64' }
      const s64: WitType = { kind: 's64' }
      assert.equal(toGuest(u64, 5, 'p'), 5n)
      assert.equal(toGuest(u64, '18446744073709551615', 'p'), 18446744073709551615n)
      assert.equal(toGuest(s64, '-9223372036854775808', 'p'), -9223372036854775808n)
      assert.equal(toGuest(s64, -7, 'p'), -7n)
      const expected = 'u64 (an integer from 0 to 18446744073709551615, as a number or a decimal string)'
      refuses(u64, '18446744073709551616', `parameter "p": expected ${expected}, got "18446744073709551616"`)
      refuses(u64, -1, `parameter "p": expected ${expected}, got -1`)
      refuses(u64, '1e3', `parameter "p": expected ${expected}, got "1e3"`)
      refuses(u64, 2 ** 60, `parameter "p": expected ${expected}, got ${2 ** 60} (integers beyond 2^53 lose precision as JSON numbers: send a decimal string)`)
      assert.equal(fromGuest(u64, 9007199254740991n), 9007199254740991)
      assert.equal(fromGuest(u64, 9007199254740992n), '9007199254740992')
      assert.equal(fromGuest(s64, -9007199254740992n), '-9007199254740992')
      assert.equal(fromGuest(s64, -3n), -3)
    })
  })

  describe('floats, bool, char, string', () => {
    it('floats are numbers; non-finite values travel as strings; f32 comes back in its shortest form', () => {
      assert.equal(toGuest({ kind: 'f64' }, 1.25, 'p'), 1.25)
      assert.equal(toGuest({ kind: 'f32' }, 'NaN', 'p'), Number.NaN)
      assert.equal(toGuest({ kind: 'f64' }, '-Infinity', 'p'), Number.NEGATIVE_INFINITY)
      refuses({ kind: 'f32' }, 1e39, 'parameter "p": expected f32 (a number), got 1e+39 (outside the f32 range)')
      refuses({ kind: 'f64' }, 'fast', 'parameter "p": expected f64 (a number), got "fast"')
      assert.equal(fromGuest({ kind: 'f32' }, Math.fround(1.1)), 1.1)
      assert.equal(fromGuest({ kind: 'f32' }, Math.fround(16777217)), 16777216)
      assert.equal(fromGuest({ kind: 'f64' }, 0.1), 0.1)
      assert.equal(fromGuest({ kind: 'f64' }, Number.POSITIVE_INFINITY), 'Infinity')
      assert.equal(fromGuest({ kind: 'f32' }, Number.NaN), 'NaN')
    })

    it('bool is true or false only', () => {
      assert.equal(toGuest({ kind: 'bool' }, false, 'p'), false)
      refuses({ kind: 'bool' }, 1, 'parameter "p": expected bool (true or false), got 1')
      refuses({ kind: 'bool' }, undefined, 'parameter "p": expected bool (true or false), got nothing')
    })

    it('char is one Unicode character (or its code point, as Golem writes it)', () => {
      const char: WitType = { kind: 'char' }
      assert.equal(toGuest(char, 'a', 'p'), 'a')
      assert.equal(toGuest(char, '😀', 'p'), '😀')
      assert.equal(toGuest(char, 0x1f600, 'p'), '😀')
      const expected = 'char (a string of one Unicode character)'
      refuses(char, 'ab', `parameter "p": expected ${expected}, got "ab"`)
      refuses(char, '', `parameter "p": expected ${expected}, got ""`)
      refuses(char, '\ud800', `parameter "p": expected ${expected}, got "\\ud800"`)
      refuses(char, 0xd800, `parameter "p": expected ${expected}, got 55296`)
      assert.equal(fromGuest(char, 'é'), 'é')
    })

    it('string must be Unicode text', () => {
      assert.equal(toGuest({ kind: 'string' }, 'héllo 😀', 'p'), 'héllo 😀')
      refuses({ kind: 'string' }, 'a\udc00b', 'parameter "p": expected string, got "a\\udc00b" (it contains an unpaired surrogate, which is not Unicode text)')
      refuses({ kind: 'string' }, null, 'parameter "p": expected string, got null')
    })
  })

  describe('lists and tuples', () => {
    it('lists of numbers become typed arrays, others arrays; the path names the element', () => {
      const bytes = toGuest({ kind: 'list', element: { kind: 'u8' } }, [1, 2, 255], 'p')
      assert.ok(bytes instanceof Uint8Array)
      assert.deepEqual([...bytes], [1, 2, 255])
      const big = toGuest({ kind: 'list', element: { kind: 'u64' } }, [1, '18446744073709551615'], 'p')
      assert.ok(big instanceof BigUint64Array)
      assert.deepEqual([...big], [1n, 18446744073709551615n])
      assert.deepEqual(toGuest({ kind: 'list', element: point }, [{ x: 1, y: 2 }], 'p'), [{ x: 1, y: 2 }])
      refuses({ kind: 'list', element: { kind: 'u8' } }, [1, 256], 'parameter "p": element 1: expected u8 (an integer from 0 to 255), got 256', '/1')
      refuses({ kind: 'list', element: point }, [{ x: 1, y: 2 }, { x: 1 }], 'parameter "p": element 1: field "y": missing field of point; expected s32 (an integer from -2147483648 to 2147483647)', '/1/y')
      refuses({ kind: 'list', element: s32 }, { 0: 1 }, 'parameter "p": expected list<s32> (an array), got {"0":1}')
      assert.deepEqual(fromGuest({ kind: 'list', element: { kind: 'u8' } }, new Uint8Array([7, 8])), [7, 8])
      assert.deepEqual(fromGuest({ kind: 'list', element: { kind: 's64' } }, new BigInt64Array([-1n, -(2n ** 63n)])), [-1, '-9223372036854775808'])
    })

    it('a mismatched value is shown by its first characters however deep it nests (issue 10 item 9)', () => {
      const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown
      refuses(s32, deep, `parameter "p": expected s32 (an integer from -2147483648 to 2147483647), got ${'['.repeat(57)}...`)
      const wide = Array.from({ length: 100 }, (_, i) => i)
      refuses({ kind: 'string' }, wide, `parameter "p": expected string, got ${JSON.stringify(wide).slice(0, 57)}...`)
      refuses({ kind: 'string' }, { a: [1, { b: null }], c: 'x' }, 'parameter "p": expected string, got {"a":[1,{"b":null}],"c":"x"}')
    })

    it('tuples are arrays of exactly their length', () => {
      const t: WitType = { kind: 'tuple', items: [{ kind: 's8' }, { kind: 'string' }] }
      assert.deepEqual(toGuest(t, [-1, 'a'], 'p'), [-1, 'a'])
      refuses(t, [-1], 'parameter "p": expected tuple<s8, string> (an array of 2 items), got [-1]')
      refuses(t, [-1, 2], 'parameter "p": item 1: expected string, got 2', '/1')
      assert.deepEqual(fromGuest(t, [3, 'b']), [3, 'b'])
    })
  })

  describe('records', () => {
    it('kebab-case names in JSON, camelCase for jco, and back', () => {
      const js = toGuest(line, { start: { x: 1, y: 2 }, 'end-point': { x: 3, y: 4 }, label: 'l' }, 'p')
      assert.deepEqual(js, { start: { x: 1, y: 2 }, endPoint: { x: 3, y: 4 }, label: 'l' })
      assert.deepEqual(fromGuest(line, js), { start: { x: 1, y: 2 }, 'end-point': { x: 3, y: 4 }, label: 'l' })
    })

    it('a missing option field is none (as Golem reads it); any other missing field is an error', () => {
      assert.deepEqual(toGuest(line, { start: { x: 1, y: 2 }, 'end-point': { x: 3, y: 4 } }, 'p'), { start: { x: 1, y: 2 }, endPoint: { x: 3, y: 4 }, label: undefined })
      refuses(line, { start: { x: 1, y: 2 } }, 'parameter "p": field "end-point": missing field of line; expected point (an object with the fields "x", "y")', '/end-point')
    })

    it('an unknown field is an error, with a hint when it is the camelCase spelling', () => {
      refuses(line, { start: { x: 1, y: 2 }, endPoint: { x: 3, y: 4 } }, 'parameter "p": field "endPoint": line has no field "endPoint" (did you mean "end-point"?)', '/endPoint')
      refuses(point, { x: 1, y: 2, z: 3 }, 'parameter "p": field "z": point has no field "z"; its fields are "x", "y"', '/z')
      refuses(point, [1, 2], 'parameter "p": expected point (an object with the fields "x", "y"), got [1,2]')
    })
  })

  describe('variants and enums', () => {
    it('{"case": payload}, or the bare name of a case without payload', () => {
      assert.deepEqual(toGuest(shape, { circle: 1.5 }, 'p'), { tag: 'circle', val: 1.5 })
      assert.deepEqual(toGuest(shape, { rect: { x: 1, y: 2 } }, 'p'), { tag: 'rect', val: { x: 1, y: 2 } })
      assert.deepEqual(toGuest(shape, 'none', 'p'), { tag: 'none' })
      assert.deepEqual(toGuest(shape, { none: null }, 'p'), { tag: 'none' })
      assert.equal(fromGuest(shape, { tag: 'none' }), 'none')
      assert.deepEqual(fromGuest(shape, { tag: 'rect', val: { x: 1, y: 2 } }), { rect: { x: 1, y: 2 } })
    })

    it('says which case or payload is wrong', () => {
      const expected = 'shape (an object {"<case>": payload}, or the name of a case without payload; cases: "circle", "rect", "none")'
      refuses(shape, { square: 1 }, `parameter "p": expected ${expected}, got {"square":1}`)
      refuses(shape, { circle: 1, rect: {} }, `parameter "p": expected ${expected}, got {"circle":1,"rect":{}}`)
      refuses(shape, 'circle', 'parameter "p": case "circle" needs a payload: {"circle": f64}')
      refuses(shape, { none: 1 }, 'parameter "p": case "none": expected no payload (null), got 1', '/none')
      refuses(shape, { rect: { x: 1, y: true } }, 'parameter "p": case "rect": field "y": expected s32 (an integer from -2147483648 to 2147483647), got true', '/rect/y')
    })

    it('enums are case names', () => {
      assert.equal(toGuest(color, 'green-ish', 'p'), 'green-ish')
      refuses(color, 'greenIsh', 'parameter "p": expected color (one of "red", "green-ish", "BLUE"), got "greenIsh"')
      assert.equal(fromGuest(color, 'BLUE'), 'BLUE')
    })
  })

  describe('options, results, flags', () => {
    it('option: null or the value; nested options use {"some": value}', () => {
      const opt: WitType = { kind: 'option', inner: s32 }
      const nested: WitType = { kind: 'option', inner: opt }
      assert.equal(toGuest(opt, null, 'p'), undefined)
      assert.equal(toGuest(opt, 4, 'p'), 4)
      refuses(opt, 'x', 'parameter "p": expected option<s32> (null or s32), got "x"')
      assert.deepEqual(toGuest(nested, null, 'p'), { tag: 'none' })
      assert.deepEqual(toGuest(nested, { some: null }, 'p'), { tag: 'some', val: undefined })
      assert.deepEqual(toGuest(nested, { some: 4 }, 'p'), { tag: 'some', val: 4 })
      refuses(nested, 4, 'parameter "p": expected option<option<s32>> (null or {"some": value}), got 4')
      refuses(nested, { some: 'x' }, 'parameter "p": some: expected option<s32> (null or s32), got "x"', '/some')
      assert.equal(fromGuest(opt, undefined), null)
      assert.equal(fromGuest(opt, 4), 4)
      assert.deepEqual(fromGuest(nested, { tag: 'some', val: undefined }), { some: null })
      assert.equal(fromGuest(nested, { tag: 'none' }), null)
    })

    it('jsNullable follows jco: option<option<option<T>>> is nullable again', () => {
      const o1: WitType = { kind: 'option', inner: s32 }
      const o2: WitType = { kind: 'option', inner: o1 }
      const o3 = { kind: 'option', inner: o2 } as const
      assert.equal(jsNullable(o1), true)
      assert.equal(jsNullable(o2), false)
      assert.equal(jsNullable(o3), true)
      assert.deepEqual(toGuest(o3, { some: { some: null } }, 'p'), { tag: 'some', val: undefined })
      assert.deepEqual(fromGuest(o3, { tag: 'some', val: 5 }), { some: { some: 5 } })
    })

    it('result: {"ok": v} or {"err": e}; a side without a type takes null', () => {
      const r: WitType = { kind: 'result', ok: { kind: 'string' }, err: color }
      const unit: WitType = { kind: 'result' }
      assert.deepEqual(toGuest(r, { ok: 'yes' }, 'p'), { tag: 'ok', val: 'yes' })
      assert.deepEqual(toGuest(r, { err: 'red' }, 'p'), { tag: 'err', val: 'red' })
      assert.deepEqual(toGuest(unit, { ok: null }, 'p'), { tag: 'ok' })
      assert.deepEqual(toGuest(unit, 'err', 'p'), { tag: 'err' })
      refuses(r, { err: 'pink' }, 'parameter "p": err: expected color (one of "red", "green-ish", "BLUE"), got "pink"', '/err')
      refuses(r, { ok: 'a', err: 'red' }, 'parameter "p": expected result<string, color> ({"ok": value} or {"err": value}), got {"ok":"a","err":"red"}')
      refuses(r, 'ok', 'parameter "p": expected result<string, color> ({"ok": value} or {"err": value}), got "ok"')
      refuses(unit, { ok: 1 }, 'parameter "p": ok: result has no ok value, got 1', '/ok')
      assert.deepEqual(fromGuest(r, { tag: 'err', val: 'BLUE' }), { err: 'BLUE' })
      assert.deepEqual(fromGuest(unit, { tag: 'ok', val: undefined }), { ok: null })
    })

    it('flags: an array of names in JSON, an object of camelCase booleans for jco', () => {
      assert.deepEqual(toGuest(perms, ['can-read', 'x2-y'], 'p'), { canRead: true, writeAll: false, x2Y: true })
      assert.deepEqual(toGuest(perms, [], 'p'), { canRead: false, writeAll: false, x2Y: false })
      refuses(perms, ['can-read', 'canWrite'], 'parameter "p": element 1: expected perms (an array of flag names from "can-read", "WRITE-all", "x2-y"), got "canWrite"', '/1')
      refuses(perms, 'can-read', 'parameter "p": expected perms (an array of flag names from "can-read", "WRITE-all", "x2-y"), got "can-read"')
      assert.deepEqual(fromGuest(perms, { canRead: false, writeAll: true, x2Y: true }), ['WRITE-all', 'x2-y'])
    })
  })

  it('resource handles cannot travel as JSON', () => {
    refuses({ kind: 'borrow', resource: 'counter' }, 1, 'parameter "p": borrow<counter> is a resource handle, which cannot be passed as JSON')
    refuses({ kind: 'list', element: { kind: 'own', resource: 'counter' } }, [1], 'parameter "p": element 0: counter is a resource handle, which cannot be passed as JSON', '/0')
  })

  it('JSON pointers escape "/" and "~" in field names', () => {
    const t: WitType = { kind: 'record', fields: [{ name: 'a', type: s32 }] }
    refuses(t, { a: 1, 'x/y~z': 2 }, 'parameter "p": field "x/y~z": record { a: s32 } has no field "x/y~z"; its fields are "a"', '/x~1y~0z')
  })

  it('fromGuest refuses values jco would never produce (a bug, not a caller error)', () => {
    assert.throws(() => fromGuest(s32, '1'), (err: unknown) => err instanceof ColonyError && err.code === 'internal_error' && /returned "1" where s32 was expected/.test(err.message))
    assert.throws(() => fromGuest(shape, { tag: 'square' }), /where shape was expected/)
  })
})
