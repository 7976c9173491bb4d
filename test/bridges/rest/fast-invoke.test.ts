import assert from 'node:assert/strict'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fastInvoke } from '../../../bridges/rest/fast-invoke.js'
import { ColonyError } from '../../../src/index.js'
import { create, fixture } from '../../helpers/components.js'
import { startColony, type TestColony } from '../../helpers/runtime.js'

interface Reply { status: number, headers: Record<string, unknown>, body: string }

function send (base: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (c: string) => { text += c })
      res.on('end', () => {
        const { date: _date, connection: _connection, 'keep-alive': _keepAlive, ...rest } = res.headers
        resolve({ status: res.statusCode ?? 0, headers: rest, body: text })
      })
    }).on('error', reject)
    req.end(body)
  })
}

const json = { 'content-type': 'application/json' }

/**
 * `POST /v1/components/{id}/invoke-and-await` is answered without Koa when the request plainly reaches the route
 * (fast-invoke.ts). `?function=add&` is the same request to the route but goes through Koa: both must answer alike,
 * successes and every error the route itself gives.
 */
describe('invoke-and-await without Koa', () => {
  let colony: TestColony
  let base: string
  let id: string
  before(async () => {
    colony = await startColony()
    base = colony.rt.urls.http
    id = await create(base, 'adder', await fixture('adder'))
  })
  after(async () => { await colony?.close() })

  const both = async (body: string | undefined, headers: Record<string, string> = json, path = `/v1/components/${id}/invoke-and-await?function=add`): Promise<Reply> => {
    const fast = await send(base, 'POST', path, body, headers)
    const koa = await send(base, 'POST', `${path}&`, body, headers)
    assert.deepEqual(fast, koa, `${body ?? '(no body)'} answered differently without Koa`)
    return fast
  }

  it('answers a call with the status, headers and body of the Koa route', async () => {
    const ok = await both('{"params":[2,3]}')
    assert.equal(ok.status, 200)
    assert.deepEqual(JSON.parse(ok.body).result.value, [5])
    assert.equal((await both('{"params":[40,2]}', { 'content-type': 'application/json; charset=utf-8' })).status, 200)
    assert.equal((await both('{"params":[1,1]}', {})).status, 200, 'no Content-Type, as curl -d without -H sends')
  })

  it('answers the route\'s own errors alike: bad JSON, a body that is not the schema\'s, wrong params, unknown function and component', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['{"params":[2,', 'add', 400, 'invalid_json'],
      ['', 'add', 400, 'invalid_body'],
      ['[1,2]', 'add', 400, 'invalid_body'],
      ['{"params":["two",3]}', 'add', 400, 'invalid_params'],
      ['{"params":[2,3]}', 'subtract', 404, 'function_not_found'],
    ]
    for (const [body, fn, status, code] of cases) {
      const r = await both(body, json, `/v1/components/${id}/invoke-and-await?function=${fn}`)
      assert.equal(r.status, status, body)
      assert.equal(JSON.parse(r.body).error.code, code, body)
    }
    const missing = await both('{"params":[2,3]}', json, '/v1/components/no-such-component/invoke-and-await?function=add')
    assert.equal(missing.status, 404)
    assert.equal(JSON.parse(missing.body).error.code, 'component_not_found')
    assert.equal(JSON.parse((await both('{"params":[2,3]}')).body).result.value[0], 5, 'and the runtime goes on answering')
  })

  it('leaves what is not plainly its own to Koa: wrong credentials, another body type, a body over the limit', async () => {
    const wrongKey = await both('{"params":[2,3]}', { ...json, 'x-api-key': 'colony_nope' })
    assert.equal(wrongKey.status, 401)
    assert.equal(wrongKey.headers['www-authenticate'], 'Bearer realm="colony"')
    assert.equal((await both('<params/>', { 'content-type': 'application/xml' })).status, 415)
    const limit = colony.rt.config.http.bodyLimitBytes
    const big = await both(`{"params":[2,3],"pad":"${'x'.repeat(limit)}"}`)
    assert.equal(big.status, 413)
  })
})

describe('fastInvoke: which requests it takes', () => {
  let colony: TestColony
  let server: Server
  let base: string
  const calls: Array<{ id: string, fn: string, params: unknown }> = []
  before(async () => {
    colony = await startColony()
    const fast = fastInvoke({
      gate: colony.rt.identity.gate,
      log: colony.rt.log,
      stats: { requests: 0 },
      trustProxy: false,
      bodyLimit: 1024,
      invoke: async (_who, componentId, fn, params) => {
        calls.push({ id: componentId, fn, params })
        if (fn === 'fails') throw new ColonyError('function_not_found', 'no such function')
        return { ok: true }
      },
    })
    // What the fast path declines gets 599 here: Koa's turn.
    server = createServer((req, res) => { if (!fast(req, res)) res.writeHead(599).end() })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await colony?.close()
  })

  it('takes a plain call and answers its errors in the route\'s shape', async () => {
    const ok = await send(base, 'POST', '/v1/components/c1/invoke-and-await?function=local:adder/math.add', '{"params":[1]}', json)
    assert.equal(ok.status, 200)
    assert.deepEqual(JSON.parse(ok.body), { ok: true })
    assert.deepEqual(calls.at(-1), { id: 'c1', fn: 'local:adder/math.add', params: [1] })
    const failed = await send(base, 'POST', '/v1/components/c1/invoke-and-await?function=fails', '{}', json)
    assert.equal(failed.status, 404)
    assert.equal(JSON.parse(failed.body).error.code, 'function_not_found')
    assert.equal((await send(base, 'POST', '/v1/components/c1/invoke-and-await?function=add', '{"params":', json)).status, 400)
  })

  it('declines everything else untouched', async () => {
    const before = calls.length
    const declined: Array<[string, string, string | undefined, Record<string, string>]> = [
      ['GET', '/v1/components/c1/invoke-and-await?function=add', undefined, {}],
      ['POST', '/v1/components/c1/invoke-and-await?function=add&x=1', '{}', json],
      ['POST', '/v1/components/c%31/invoke-and-await?function=add', '{}', json],
      ['POST', '/v1/components/c1/invoke-and-await?function=a+b', '{}', json],
      ['POST', '/v1/components/c1/invoke-and-await', '{}', json],
      ['POST', '/v1/components/c1/invoke?function=add', '{}', json],
      ['POST', '/v1/components/c1/invoke-and-await?function=add', '{}', { ...json, 'x-api-key': 'colony_nope' }],
      ['POST', '/v1/components/c1/invoke-and-await?function=add', '{}', { 'content-type': 'text/xml' }],
      ['POST', '/v1/components/c1/invoke-and-await?function=add', 'x'.repeat(2000), json],
      ['POST', '/v1/components/c1/invoke-and-await?function=add', '{}', { ...json, host: 'evil.example' }],
    ]
    for (const [method, path, body, headers] of declined) {
      assert.equal((await send(base, method, path, body, headers)).status, 599, `${method} ${path} ${JSON.stringify(headers)}`)
    }
    assert.equal(calls.length, before, 'nothing declined was called')
  })
})
