/**
 * Loopback development mode lets local tools (curl, mosquitto, the dashboard opened on localhost) act as the admin
 * without credentials. A web page of another site open in the same browser must not: cross-site requests, cross-site
 * WebSocket upgrades and DNS-rebinding host names need credentials like any remote client, and change nothing.
 */
import assert from 'node:assert/strict'
import { request } from 'node:http'
import mqtt from 'mqtt'
import { WebSocket } from 'ws'
import { startColony, type TestColony } from '../helpers/runtime.js'

interface Reply { status: number, json: any }

/** One HTTP request with exactly these headers (Host included when given). */
function send (base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Reply> {
  const url = new URL(path, base)
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: url.pathname + url.search, agent: false,
      headers: { ...headers, ...(payload !== undefined && { 'content-type': 'text/plain', 'content-length': String(payload.length) }) } }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (c: string) => { text += c }).on('end', () => {
        let json: unknown
        try { json = JSON.parse(text) } catch { json = undefined }
        resolve({ status: res.statusCode ?? 0, json })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/** The HTTP status of a refused WebSocket upgrade (rejects if it is accepted). */
function upgradeStatus (url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.on('unexpected-response', (_req, res) => { res.resume(); resolve(res.statusCode ?? 0) })
    ws.on('open', () => { ws.close(); reject(new Error(`${url} was accepted`)) })
    ws.on('error', () => undefined)
  })
}

describe('loopback development mode serves local tools only', function () {
  let colony: TestColony
  let base: string
  let host: string
  let echo: string

  before(async () => {
    colony = await startColony()
    base = colony.rt.urls.http
    host = new URL(base).host
    echo = (await colony.rt.system.spawn('echo', { name: 'local-echo' })).id
  })
  after(async () => {
    await colony?.close()
  })

  it('REST: a page of another site (Origin, Sec-Fetch-Site) or a rebound host name gets 401 and changes nothing', async () => {
    const attempts: Array<[string, Record<string, string>]> = [
      ['a cross-site Origin', { origin: 'http://evil.example' }],
      ['an opaque Origin (sandboxed page)', { origin: 'null' }],
      ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
      ['a DNS-rebinding host name', { host: `evil.example:${new URL(base).port}` }],
    ]
    for (const [what, headers] of attempts) {
      const pause = await send(base, 'POST', `/api/actors/${echo}/pause`, headers)
      assert.equal(pause.status, 401, what)
      assert.equal(pause.json.error.code, 'unauthorized')
      const chat = await send(base, 'POST', '/api/chat', headers, { to: 'main-actor', content: 'delete local-echo' })
      assert.equal(chat.status, 401, what)
    }
    assert.equal(colony.rt.system.get(echo)?.state, 'running', 'nothing changed')
    assert.ok(colony.logs.some((l) => l.msg === 'request refused' && l.status === 401), 'refusals are logged')
  })

  it('REST: local tools and same-origin pages still need nothing; another site with a real key is allowed', async () => {
    assert.equal((await send(base, 'GET', '/api/actors', {})).status, 200, 'curl')
    assert.equal((await send(base, 'GET', '/api/actors', { host: `localhost:${new URL(base).port}` })).status, 200, 'localhost')
    const sameOrigin = await send(base, 'POST', `/api/actors/${echo}/pause`, { origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })
    assert.equal(sameOrigin.status, 200, 'the dashboard')
    const keyed = await send(base, 'POST', `/api/actors/${echo}/resume`, { origin: 'http://evil.example', 'x-api-key': colony.rt.identity.bootstrap?.apiKey as string })
    assert.equal(keyed.status, 200, 'a credential is proof enough')
    assert.equal(colony.rt.system.get(echo)?.state, 'running')
  })

  it('/ws and /mqtt: another site\'s page cannot open them without credentials; the same origin can', async () => {
    const evil = { origin: 'http://evil.example' }
    assert.equal(await upgradeStatus(colony.rt.urls.ws, evil), 401)
    await assert.rejects(mqtt.connectAsync(colony.rt.urls.mqttWs, { reconnectPeriod: 0, wsOptions: { headers: evil } }), (e: any) => e.code === 5)
    const ws = new WebSocket(colony.rt.urls.ws, { headers: { origin: `http://${host}` } })
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
    ws.close()
    const client = await mqtt.connectAsync(colony.rt.urls.mqttWs, { reconnectPeriod: 0, wsOptions: { headers: { origin: `http://${host}` } } })
    await client.endAsync()
  })
})
