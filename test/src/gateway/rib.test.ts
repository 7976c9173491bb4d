import assert from 'node:assert/strict'
import { type ColonyError } from '../../../src/errors.js'
import { callsFunction, evaluate, type RibHost, type RibRequest } from '../../../src/gateway/rib-eval.js'
import { lineColumn, parseRib, RibError } from '../../../src/gateway/rib-parse.js'
import { answer, toResponse } from '../../../src/gateway/serve.js'
import { compileRoutes } from '../../../src/gateway/compile.js'
import type { GatewayInvocation } from '../../../src/gateway/types.js'

const request = (over: Partial<RibRequest> = {}): RibRequest => ({
  path: {}, query: {}, headers: {}, body: undefined, declaredQuery: new Set(), ...over,
})

/** Records every call; answers with `results[fn]` (or the arguments). */
function recorder (results: Record<string, unknown> = {}): RibHost & { calls: Array<{ fn: string, args: unknown[], worker: string | undefined }> } {
  const calls: Array<{ fn: string, args: unknown[], worker: string | undefined }> = []
  return {
    calls,
    ephemeralName: () => 'ephemeral-1',
    call: async (fn, args, worker) => {
      calls.push({ fn, args, worker })
      return fn in results ? results[fn] : args
    },
  }
}

const run = async (source: string, req = request(), host = recorder()): Promise<unknown> => await evaluate(parseRib(source), req, host)

function syntaxError (source: string): { message: string, line: number, column: number } {
  try {
    parseRib(source)
  } catch (err) {
    assert.ok(err instanceof RibError, String(err))
    return { message: err.message, ...lineColumn(source, err.offset) }
  }
  assert.fail(`${source} parsed`)
}

describe('gateway: the Rib subset', () => {
  it('literals: strings, numbers with Rib suffixes, booleans, none, records, lists', async () => {
    assert.equal(await run('"hello"'), 'hello')
    assert.equal(await run('200u64'), 200)
    assert.equal(await run('-3s32'), -3)
    assert.equal(await run('1.5f64'), 1.5)
    assert.equal(await run('true'), true)
    assert.equal(await run('none'), null)
    assert.deepEqual(await run('{status: 201, body: [1, "two", {x: false}], headers: {Content-Type: "text/plain", "x-a": "b"}}'),
      { status: 201, body: [1, 'two', { x: false }], headers: { 'Content-Type': 'text/plain', 'x-a': 'b' } })
    assert.deepEqual(await run('{}'), {})
    assert.equal(await run('"a \\"quoted\\" \\${not} line\\n"'), 'a "quoted" ${not} line\n')
  })

  it('reads the request: path (hyphenated names), query, headers (any case), body and its fields', async () => {
    const req = request({
      path: { 'user-id': '42' },
      query: { limit: '5' },
      headers: { 'x-tenant': 'acme' },
      body: { item: { name: 'pen', tags: ['a', 'b'] } },
      declaredQuery: new Set(['limit']),
    })
    assert.equal(await run('request.path.user-id', req), '42')
    assert.equal(await run('request.query.limit', req), '5')
    assert.equal(await run('request.path.limit', req), '5', 'older Golem scripts read query variables under request.path')
    assert.equal(await run('request.headers.X-Tenant', req), 'acme')
    assert.equal(await run('request.header.x-tenant', req), 'acme')
    assert.deepEqual(await run('request.body', req), req.body)
    assert.equal(await run('request.body.item.name', req), 'pen')
    assert.equal(await run('request.body.item.tags[1]', req), 'b')
  })

  it('let sequences, type annotations that convert request strings, and ${} interpolation', async () => {
    const req = request({ path: { id: '7', flag: 'true' } })
    assert.equal(await run('let id: u64 = request.path.id; id', req), 7)
    assert.equal(await run('let f: bool = request.path.flag; f', req), true)
    assert.equal(await run('let id = request.path.id;\nlet name: string = "worker-${id}";\nname', req), 'worker-7')
    assert.equal(await run('"n=${ {a: 1}.a } list=${[1, 2]}"', req), 'n=1 list=[1,2]')
    assert.equal(await run('// a comment\nlet x = 1; // another\nx'), 1)
    await assert.rejects(run('let id: u64 = request.path.id; id', request({ path: { id: 'x' } })), (err: ColonyError) => err.code === 'api_input_invalid' && /not a u64/.test(err.message))
    await assert.rejects(run('let id: u8 = request.path.id; id', request({ path: { id: '-1' } })), (err: ColonyError) => err.code === 'api_input_invalid')
  })

  it('calls worker functions by every name resolveFunction accepts, with evaluated arguments, in order', async () => {
    const host = recorder({ 'golem:it/api.{get-cart}': ['cart'], 'api.add': 3, add: 4, 'ns:pkg/iface@1.0.0.{f}': 'v' })
    const out = await run('let c = golem:it/api.{get-cart}(request.path.user); let s = api.add(1, 2); {body: {c: c, s: s, t: add(s, 1), v: ns:pkg/iface@1.0.0.{f}()}}',
      request({ path: { user: 'u1' } }), host)
    assert.deepEqual(out, { body: { c: ['cart'], s: 3, t: 4, v: 'v' } })
    assert.deepEqual(host.calls.map((c) => [c.fn, c.args, c.worker]), [
      ['golem:it/api.{get-cart}', ['u1'], undefined], ['api.add', [1, 2], undefined], ['add', [3, 1], undefined], ['ns:pkg/iface@1.0.0.{f}', [], undefined],
    ])
  })

  it('instance(name) gives a worker whose methods call that worker; some/ok/err build Rib values', async () => {
    const host = recorder({ 'get-cart-contents': [1] })
    const out = await run('let worker = instance("cart-${request.path.u}"); let r = worker.get-cart-contents(); {body: {r: r, o: ok(1), e: err("x"), s: some(2)}}',
      request({ path: { u: '9' } }), host)
    assert.deepEqual(out, { body: { r: [1], o: { ok: 1 }, e: { err: 'x' }, s: 2 } })
    assert.deepEqual(host.calls, [{ fn: 'get-cart-contents', args: [], worker: 'cart-9' }])
    await run('let w = instance(); w.f()', request(), host)
    assert.equal(host.calls[1]?.worker, 'ephemeral-1')
  })

  it('missing request parts are 400 api_input_invalid naming what is missing', async () => {
    const missing = async (source: string, req: RibRequest, what: RegExp): Promise<void> => {
      await assert.rejects(run(source, req), (err: ColonyError) => err.code === 'api_input_invalid' && what.test(err.message))
    }
    await missing('request.body', request(), /no body/)
    await missing('request.body.x', request({ body: { y: 1 } }), /\.x/)
    await missing('request.body[3]', request({ body: [1] }), /\[3\]/)
    await missing('request.query.q', request(), /"q"/)
    await missing('request.headers.authorization', request(), /"authorization"/)
  })

  it('syntax errors name the line and column', () => {
    assert.deepEqual(syntaxError('let x = ;'), { message: 'expected an expression', line: 1, column: 9 })
    assert.equal(syntaxError('let x = 1').message, 'the script ends with "let x": its value is its last expression')
    assert.deepEqual(syntaxError('let a = 1;\nfoo'), { message: '"foo" is not defined (a let-bound name or request)', line: 2, column: 1 })
    assert.equal(syntaxError('request.cookies.a').message, 'request.cookies is not known: use request.path, request.query, request.headers or request.body')
    assert.equal(syntaxError('"abc').message, 'an unclosed string')
    assert.equal(syntaxError('"${1"').message, 'an unclosed "${"')
    assert.equal(syntaxError('{a: 1 b: 2}').message, 'expected "," or "}" in a record')
    assert.equal(syntaxError('{a: 1, a: 2}').message, 'the field "a" appears twice')
    assert.equal(syntaxError('200u65').message, '"u65" is not a number type (u8..u64, s8..s64, f32, f64)')
    assert.equal(syntaxError('f(1, 2').message, 'expected "," or ")"')
    assert.equal(syntaxError('   ').message, 'the script is empty: it needs an expression')
    assert.equal(syntaxError('1 2').message, 'expected ";"')
  })

  it('tells scripts that call functions from those that do not', () => {
    assert.equal(callsFunction(parseRib('"w-${request.path.x}"')), false)
    assert.equal(callsFunction(parseRib('let a = api.get(); a')), true)
    assert.equal(callsFunction(parseRib('{b: [get()]}')), true)
  })
})

describe('gateway: compiling routes and answering', () => {
  const binding = (response: string, extra: Record<string, string> = {}) => ({ componentId: { componentId: 'c1', version: 2 }, response, ...extra })
  const ref = { id: 'api', version: '1' }

  it('invalid_binding names the route, the field and the position; reads of undeclared variables are refused', () => {
    const bad = (routes: any[], field: string, message: RegExp): void => {
      assert.throws(() => compileRoutes(ref, routes), (err: ColonyError) => {
        assert.equal(err.code, 'invalid_binding')
        assert.equal(err.details?.field, field)
        assert.match(err.message, message)
        return true
      })
    }
    bad([{ method: 'Fetch', path: '/a', binding: binding('1') }], 'method', /route 0 \(Fetch \/a\) method: "Fetch" is not one of Get, Post/)
    bad([{ method: 'Get', path: 'a', binding: binding('1') }], 'path', /starts with "\/"/)
    bad([{ method: 'Get', path: '/a/{+rest}/b', binding: binding('1') }], 'path', /must be the last segment/)
    bad([{ method: 'Get', path: '/a/{x}/{x}', binding: binding('1') }], 'path', /declared twice/)
    bad([{ method: 'Get', path: '/a/x{y}', binding: binding('1') }], 'path', /whole-segment/)
    bad([{ method: 'Get', path: '/a', binding: binding('1') }, { method: 'Get', path: '/b', binding: binding('let x = ;') }], 'binding.response', /^route 1 \(Get \/b\) binding.response: expected an expression at line 1, column 9$/)
    bad([{ method: 'Get', path: '/a/{id}', binding: binding('request.path.name') }], 'binding.response', /the path declares no \{name\}/)
    bad([{ method: 'Get', path: '/a?{q}', binding: binding('request.query.r') }], 'binding.response', /no query variable \{r\}/)
    bad([{ method: 'Get', path: '/a', binding: binding('1', { workerName: 'api.get()' }) }], 'binding.workerName', /only the response script may/)
    bad([{ method: 'Get', path: '/a', binding: { ...binding('1'), bindingType: 'file-server' } }], 'binding.bindingType', /only "default"/)
    assert.throws(() => compileRoutes(ref, [{ method: 'get', path: '/c/{a}', binding: binding('1') }, { method: 'GET', path: '/c/{b}', binding: binding('2') }]),
      (err: ColonyError) => err.code === 'api_route_conflict' && /route 1 \(GET \/c\/\{b\}\) and api@1 route 0/.test(err.message))
    // Same path, other method; or a literal beside a variable: no conflict.
    compileRoutes(ref, [{ method: 'Get', path: '/c/{a}', binding: binding('1') }, { method: 'Post', path: '/c/{a}', binding: binding('1') }, { method: 'Get', path: '/c/new', binding: binding('1') }])
  })

  it('answer: worker name and idempotency key go to the invoker with the component, version, team and params', async () => {
    const [route] = compileRoutes(ref, [{
      method: 'Post',
      path: '/carts/{user}?{qty}',
      binding: binding('let q: u32 = request.query.qty; let r = golem:it/api.{add-item}(request.body.item, q); {status: 201, body: r, headers: {Location: "/carts/${request.path.user}"}}',
        { workerName: '"cart-${request.path.user}"', idempotencyKey: 'request.headers.idempotency-key' }),
    }])
    const seen: GatewayInvocation[] = []
    const out = await answer(route!, 'team-1', { vars: { user: 'ann' }, query: { qty: '3' }, headers: { 'idempotency-key': 'k1' }, body: { item: 'pen' } }, {
      invoke: async (req) => { seen.push(req); return { value: { ok: 4 } } },
    })
    assert.deepEqual(out, { status: 201, headers: { Location: '/carts/ann' }, body: { ok: 4 } })
    assert.deepEqual(seen, [{ teamId: 'team-1', componentId: 'c1', componentVersion: 2, workerName: 'cart-ann', functionName: 'golem:it/api.{add-item}', params: ['pen', 3], idempotencyKey: 'k1' }])
  })

  it('a value that is not a response record is the body of a 200; a bad status or header is api_binding_failed', () => {
    assert.deepEqual(toResponse(5), { status: 200, headers: {}, body: 5 })
    assert.deepEqual(toResponse({ name: 'x' }), { status: 200, headers: {}, body: { name: 'x' } })
    assert.deepEqual(toResponse({ body: 'x' }), { status: 200, headers: {}, body: 'x' })
    assert.deepEqual(toResponse({ status: 204 }), { status: 204, headers: {}, body: undefined })
    for (const bad of [{ status: 99 }, { status: '200' }, { status: 200.5 }, { headers: [] }, { headers: { 'a b': 'x' } }, { headers: { a: 'x\r\ny: z' } }]) {
      assert.throws(() => toResponse(bad), (err: ColonyError) => err.code === 'api_binding_failed', JSON.stringify(bad))
    }
  })
})
