import assert from 'node:assert/strict'
import { request } from 'node:http'
import { startColony, type TestColony } from '../../helpers/runtime.js'

interface Reply { status: number, headers: Record<string, unknown>, body: string }

function send (base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (c: string) => { body += c })
      res.on('end', () => {
        const { date: _date, connection: _connection, 'keep-alive': _keepAlive, ...rest } = res.headers
        resolve({ status: res.statusCode ?? 0, headers: rest, body })
      })
    }).on('error', reject).end()
  })
}

/**
 * `GET /api/actors` is answered without Koa when it plainly succeeds (fast-actors.ts); `/api/actors?` is the same
 * request to the route but goes through Koa. Both must answer alike, and whatever the fast path declines (a
 * refused caller, a conditional request) still gets Koa's answer.
 */
describe('GET /api/actors without Koa', () => {
  let colony: TestColony
  let base: string
  before(async () => {
    colony = await startColony()
    base = colony.rt.urls.http
    await colony.rt.system.spawn('echo', { name: 'fast-echo' })
  })
  after(async () => { await colony?.close() })

  it('answers GET and HEAD with the status, headers and body of the Koa route', async () => {
    for (const method of ['GET', 'HEAD']) {
      const fast = await send(base, method, '/api/actors')
      const koa = await send(base, method, '/api/actors?')
      assert.equal(fast.status, 200)
      assert.deepEqual(fast, koa, method)
    }
    assert.ok(JSON.parse((await send(base, 'GET', '/api/actors')).body).some((a: { name: string }) => a.name === 'fast-echo'))
  })

  it('leaves refusals and conditional requests to Koa: 401 with WWW-Authenticate, 304 on a matching ETag', async () => {
    const wrongKey = await send(base, 'GET', '/api/actors', { 'x-api-key': 'colony_nope' })
    assert.equal(wrongKey.status, 401)
    assert.equal(wrongKey.headers['www-authenticate'], 'Bearer realm="colony"')
    assert.equal(JSON.parse(wrongKey.body).error.code, 'unauthorized')
    const rebound = await send(base, 'GET', '/api/actors', { host: 'evil.example' })
    assert.equal(rebound.status, 401)
    const { headers } = await send(base, 'GET', '/api/actors')
    const notModified = await send(base, 'GET', '/api/actors', { 'if-none-match': String(headers.etag) })
    assert.equal(notModified.status, 304)
  })

  it('is as fresh as the registry: a new actor is in the next answer', async () => {
    const before = (await send(base, 'GET', '/api/actors')).headers.etag
    await colony.rt.system.spawn('echo', { name: 'fast-echo-2' })
    const after = await send(base, 'GET', '/api/actors')
    assert.notEqual(after.headers.etag, before)
    assert.ok(JSON.parse(after.body).some((a: { name: string }) => a.name === 'fast-echo-2'))
  })
})
