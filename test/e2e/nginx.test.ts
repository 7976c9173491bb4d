/**
 * Colony behind Debian's nginx, with the configuration scripts/render-nginx.mjs renders: REST, body limits, security
 * headers, /metrics access, the /ws stream and MQTT over WebSocket, all through nginx; and Colony trusting
 * X-Forwarded-* only from http.proxyAddresses.
 */
import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { createServer, type Server, type Socket } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { WebSocket } from 'ws'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { StreamRecorder } from '../helpers/ws.js'
import { fixture, invokeOk, padded, padTo, update, upload } from '../helpers/components.js'
import { freePort, selfSignedCertificate, startNginx, type Nginx } from '../helpers/nginx.js'

const MiB = 1024 * 1024

interface Reply { status: number, headers: IncomingHttpHeaders, raw: string[], text: string, json: any }

/**
 * One HTTP request on its own connection. `from` binds the client to that local address (any of 127.0.0.0/8 is
 * loopback on Linux); a body given as an array of chunks is sent chunked, without Content-Length.
 */
function send (port: number, method: string, path: string, o: { body?: string | Buffer | Buffer[], headers?: Record<string, string>, from?: string } = {}): Promise<Reply> {
  const chunks = o.body === undefined ? [] : Array.isArray(o.body) ? o.body : [Buffer.from(o.body)]
  const headers = { ...o.headers }
  if (o.body !== undefined && !Array.isArray(o.body)) headers['content-length'] = String(chunks[0]?.length ?? 0)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false, ...(o.from !== undefined && { localAddress: o.from }) }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8')
        let json: unknown
        try { json = JSON.parse(text) } catch { json = undefined }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw: res.rawHeaders, text, json })
      })
    })
    // nginx may answer 413 and close while the body is still being written: the answer is what counts.
    req.on('error', reject)
    for (const c of chunks) req.write(c)
    req.end()
  })
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
}

/** Each security header exactly once (nginx's, not a second copy from Colony), and no nginx version. */
function assertSecurityHeaders (res: Reply, what: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    const values = res.raw.filter((_, i) => i % 2 === 1 && res.raw[i - 1]?.toLowerCase() === name)
    assert.deepEqual(values, [value], `${what}: ${name}`)
  }
  assert.equal(res.headers.server, 'nginx', `${what}: server_tokens off`)
}

/** Colony's own "request refused" log lines with this status (nginx's refusals never reach it). */
function refused (colony: TestColony, from: number, status: number): unknown[] {
  return colony.logs.slice(from).filter((l) => l.msg === 'request refused' && l.status === status)
}

const failedLogin = { email: 'nobody@example.test', password: 'not-the-password' }

describe('behind nginx', function () {
  let colony: TestColony
  let nginx: Nginx
  let mqtt: Recorder
  const streams: StreamRecorder[] = []
  /** The admin's API key: through a proxy, loopback development mode does not apply and every door wants credentials. */
  let key: string
  const at = (path: string, o?: Parameters<typeof send>[3]): Promise<Reply> =>
    send(nginx.port, o?.body === undefined ? 'GET' : 'POST', path, { ...o, headers: { 'x-api-key': key, ...o?.headers } })

  before(async function () {
    colony = await startColony({
      config: {
        http: { trustProxy: true },
        wasm: { maxComponentBytes: 3 * MiB },
        auth: { loginMaxPerAddress: 2, loginMaxPerAccount: 1000 },
      },
    })
    key = colony.rt.identity.bootstrap?.apiKey as string
    const { bodyLimitBytes } = colony.rt.config.http
    nginx = await startNginx({ upstream: new URL(colony.rt.urls.http).host, bodyLimit: bodyLimitBytes, uploadLimit: colony.rt.config.wasm.maxComponentBytes })
    mqtt = await connect(`ws://127.0.0.1:${nginx.port}/mqtt`, { username: 'tester', password: key })
    await mqtt.subscribe('agents/+/chat', 'agents/main-actor/heartbeat')
  })
  after(async function () {
    await mqtt?.close()
    await Promise.all(streams.splice(0).map((s) => s.close()))
    await nginx?.stop()
    await colony?.close()
  })

  it('through the proxy nothing is anonymous: REST, /ws and /mqtt want credentials (directly on loopback they do not)', async function () {
    const anonymous = await send(nginx.port, 'GET', '/api/actors')
    assert.equal(anonymous.status, 401, anonymous.text)
    assert.match(anonymous.json.error.message, /through a proxy/)
    assert.equal((await send(Number(new URL(colony.rt.urls.http).port), 'GET', '/api/actors')).status, 200, 'direct: development mode')
    await assert.rejects(StreamRecorder.open(`ws://127.0.0.1:${nginx.port}/ws`), /401/)
    await assert.rejects(connect(`ws://127.0.0.1:${nginx.port}/mqtt`), /Not authorized/)
    assert.equal((await send(nginx.port, 'GET', '/api/health')).status, 200, 'public routes stay public')
  })

  it('REST: GET /api/actors, with the security headers and no nginx version', async function () {
    const res = await at('/api/actors')
    assert.equal(res.status, 200, res.text)
    assert.ok(res.json.some((a: any) => a.name === 'main-actor'))
    assertSecurityHeaders(res, 'GET /api/actors')
  })

  it('anything else goes to Colony too (its JSON 404; the dashboard at /), with the headers exactly once', async function () {
    const missing = await at('/no-such-page')
    assert.equal(missing.status, 404)
    assert.equal(missing.json.error.code, 'route_not_found')
    assertSecurityHeaders(missing, 'a 404 from Colony')
    const root = await at('/')
    assert.ok([200, 404].includes(root.status), `GET /: ${root.status}`)
    assertSecurityHeaders(root, 'GET /')
  })

  it('POST /api/chat: 202, and the reply arrives on MQTT over nginx\'s /mqtt', async function () {
    const res = await at('/api/chat', { body: JSON.stringify({ to: 'main-actor', content: 'agents' }), headers: { 'content-type': 'application/json' } })
    assert.equal(res.status, 202, res.text)
    const reply = await mqtt.next((m) => m.json?.inReplyTo === res.json.id, { what: 'the chat reply' })
    assert.equal(reply.topic, res.json.replyTopic)
    assert.match(reply.json.content, /main-actor \(/)
  })

  it('a body over http.bodyLimitBytes gets nginx\'s 413 in Colony\'s format, sized or chunked; Colony never sees it', async function () {
    const mark = colony.logs.length
    const big = Buffer.alloc(MiB + 1, 0x20)
    const sized = await at('/api/chat', { body: big, headers: { 'content-type': 'application/json' } })
    const chunked = await at('/api/chat', { body: [big.subarray(0, MiB / 2), big.subarray(MiB / 2)], headers: { 'content-type': 'application/json' } })
    for (const res of [sized, chunked]) {
      assert.equal(res.status, 413, res.text)
      assert.deepEqual(res.json, { error: { code: 'body_too_large', message: `request body exceeds the limit of ${MiB} bytes`, limit: MiB } })
      assertSecurityHeaders(res, 'nginx\'s 413')
    }
    // A request Colony refuses itself (400) is the barrier: had it seen the two above, they would be logged by now.
    assert.equal((await at('/api/chat', { body: '{"content": ""}' })).status, 400)
    assert.equal(refused(colony, mark, 400).length, 1)
    assert.deepEqual(refused(colony, mark, 413), [])
  })

  it('component uploads and updates get wasm.maxComponentBytes: a 2 MiB adder passes, a 4 MiB one is nginx\'s 413', async function () {
    const base = `http://127.0.0.1:${nginx.port}`
    const adder = await fixture('adder')
    const c = { token: key }
    const created = await upload(base, 'adder-via-nginx', padded(adder, 2 * MiB), c)
    assert.equal(created.status, 200, JSON.stringify(created.body))
    const id = created.body.componentId as string
    assert.equal(await invokeOk(base, id, 'add', [2, 40], c), 42)
    const updated = await update(base, id, padded(adder, 2 * MiB + 1), c)
    assert.equal(updated.status, 200, JSON.stringify(updated.body))
    const mark = colony.logs.length
    for (const res of [await upload(base, 'too-big', padded(adder, 4 * MiB), c), await update(base, id, padded(adder, 4 * MiB), c)]) {
      assert.equal(res.status, 413, JSON.stringify(res.body))
      assert.equal(res.body.error.code, 'component_too_large')
      assert.equal(res.body.error.limit, 3 * MiB)
    }
    assert.equal(await invokeOk(base, id, 'add', [1, 2], c), 3, 'a barrier, and the component still works')
    assert.deepEqual(refused(colony, mark, 413), [], 'nginx refused them, not Colony')

    // At the limit exactly, the form around the component does not count: it passes; one byte more is Colony's
    // 413, in the same format.
    const atLimit = await upload(base, 'adder-at-limit', padTo(adder, 3 * MiB), c)
    assert.equal(atLimit.status, 200, JSON.stringify(atLimit.body))
    assert.equal(atLimit.body.componentSize, 3 * MiB)
    const over = await update(base, atLimit.body.componentId as string, padTo(adder, 3 * MiB + 1), c)
    assert.equal(over.status, 413, JSON.stringify(over.body))
    assert.deepEqual(over.body.error.code, 'component_too_large')
    assert.equal(over.body.error.limit, 3 * MiB)
    assert.equal(refused(colony, mark, 413).length, 1, 'this one Colony refused')
  })

  it('/metrics answers loopback 127.0.0.1 and denies 127.0.0.2 (deny all but the allowed)', async function () {
    const ok = await at('/metrics')
    assert.equal(ok.status, 200)
    assert.match(ok.text, /^colony_actors\{/m)
    const denied = await at('/metrics', { from: '127.0.0.2' })
    assert.equal(denied.status, 403)
    assertSecurityHeaders(denied, 'nginx\'s 403')
    assert.equal((await at('/api/health', { from: '127.0.0.2' })).status, 200, 'only /metrics is restricted')
  })

  it('/ws streams heartbeats through nginx, narrowed by ?topics=', async function () {
    const stream = await StreamRecorder.open(`ws://127.0.0.1:${nginx.port}/ws?topics=agents/io-agent/heartbeat&token=${key}`)
    streams.push(stream)
    await stream.until(() => stream.frames.length >= 2, 5000, 'two heartbeats')
    assert.deepEqual(new Set(stream.frames.map((f) => f.topic)), new Set(['agents/io-agent/heartbeat']))
    assert.equal(stream.frames[0].payload.agentId, 'io-agent')
  })

  it('MQTT over WebSocket at /mqtt: receives what it subscribed to, and gets the reply to its io/chat', async function () {
    const beat = await mqtt.next((m) => m.topic === 'agents/main-actor/heartbeat', { what: 'a heartbeat' })
    assert.equal(beat.json.agentId, 'main-actor')
    await mqtt.publish('io/chat', { id: 'via-nginx-1', from: 'tester', content: '@main-actor status io-agent' })
    const reply = await mqtt.next((m) => m.json?.inReplyTo === 'via-nginx-1', { what: 'the io/chat reply' })
    assert.equal(reply.topic, 'agents/main-actor/chat')
    assert.equal(reply.json.to, 'tester')
  })

  it('X-Forwarded-For is the client nginx saw: forged values are dropped, each client address is limited on its own', async function () {
    const login = (from: string, forged: string): Promise<Reply> =>
      at('/v1/auth/login', { from, body: JSON.stringify(failedLogin), headers: { 'content-type': 'application/json', 'x-forwarded-for': forged } })
    // Colony's peer is always nginx (127.0.0.1); the limit follows nginx's $remote_addr, not what the client claims.
    assert.equal((await login('127.0.0.2', '198.51.100.1')).status, 401)
    assert.equal((await login('127.0.0.2', '198.51.100.2')).status, 401)
    const limited = await login('127.0.0.2', '198.51.100.3')
    assert.equal(limited.status, 429, limited.text)
    assert.equal(limited.json.error.code, 'rate_limited')
    assert.equal((await login('127.0.0.3', '127.0.0.2')).status, 401, 'another client address is not limited')
    assert.equal((await login('127.0.0.1', '127.0.0.2')).status, 401, 'nor is nginx\'s own address')
  })

  it('MQTT over WebSocket: a violation names the client nginx saw, not nginx; directly, a forged X-Forwarded-For is ignored', async function () {
    const watcher = await connect(colony.rt.urls.mqtt, { username: 'watcher', password: key })
    try {
      await watcher.subscribe('system/violations')
      const offend = async (url: string, headers: Record<string, string> = {}): Promise<string> => {
        const from = watcher.mark
        const client = await connect(url, { username: 'offender', password: key, wsOptions: { localAddress: '127.0.0.2', headers } })
        const closed = new Promise<void>((resolve) => client.client.once('close', () => resolve()))
        client.client.publish('system/forged', 'x')
        await closed
        await client.close()
        const violation = await watcher.next((m) => m.topic === 'system/violations' && m.json?.topic === 'system/forged', { from })
        return violation.json.remoteAddress as string
      }
      assert.equal(await offend(`ws://127.0.0.1:${nginx.port}/mqtt`, { 'x-forwarded-for': '198.51.100.7' }), '127.0.0.2', 'through nginx')
      assert.equal(await offend(colony.rt.urls.mqttWs, { 'x-forwarded-for': '198.51.100.7' }), '127.0.0.2', 'directly from a peer that is no proxy')
    } finally {
      await watcher.close()
    }
  })
})

describe('behind nginx with TLS', function () {
  let colony: TestColony
  let nginx: Nginx
  let dir: string
  let ca: string
  let key: string

  /** One HTTPS request trusting only the test's certificate. */
  const get = (path: string, headers: Record<string, string> = {}): Promise<{ status: number, headers: IncomingHttpHeaders, text: string }> =>
    new Promise((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port: nginx.port, path, headers, ca, agent: false }, (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (c: string) => { text += c }).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      }).on('error', reject).end()
    })

  let plainPort: number

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'colony-tls-'))
    const certificate = await selfSignedCertificate(dir)
    ca = certificate.pem
    colony = await startColony({ config: { http: { trustProxy: true }, oauth: { githubClientId: 'tls-test-client', githubClientSecret: 'tls-test-secret' } } })
    key = colony.rt.identity.bootstrap?.apiKey as string
    plainPort = await freePort()
    nginx = await startNginx({ upstream: new URL(colony.rt.urls.http).host, tlsCert: certificate.cert, tlsKey: certificate.key, redirectHttp: `127.0.0.1:${plainPort}` })
  })
  after(async function () {
    await nginx?.stop()
    await colony?.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('REST over HTTPS with HSTS and the security headers; Colony sees https (OAuth redirect_uri, Secure cookie)', async function () {
    const res = await get('/api/actors', { 'x-api-key': key })
    assert.equal(res.status, 200, res.text)
    assert.ok((JSON.parse(res.text) as unknown[]).length > 0)
    assert.equal(res.headers['strict-transport-security'], 'max-age=63072000')
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers[name], value, name)
    const login = await get('/v1/auth/oauth/github')
    assert.equal(login.status, 302)
    const redirectUri = new URL(String(login.headers.location)).searchParams.get('redirect_uri')
    assert.equal(redirectUri, `https://127.0.0.1:${nginx.port}/v1/auth/oauth/github/callback`)
    assert.match(String(login.headers['set-cookie']), /;\s*secure/i, 'the state cookie is Secure behind HTTPS')
  })

  it('plain HTTP on --redirect-http is sent to the HTTPS address with 308 (method and body kept)', async function () {
    for (const [method, path] of [['GET', '/api/actors?x=1'], ['POST', '/api/chat']] as const) {
      const res = await send(plainPort, method, path)
      assert.equal(res.status, 308, `${method} ${path}`)
      assert.equal(res.headers.location, `https://127.0.0.1:${nginx.port}${path}`)
    }
  })

  it('wss:// for the /ws stream and for MQTT over WebSocket', async function () {
    const frame = await new Promise<{ topic: string }>((resolve, reject) => {
      const ws = new WebSocket(`wss://127.0.0.1:${nginx.port}/ws?topics=agents/main-actor/heartbeat`, { ca, headers: { 'x-api-key': key } })
      ws.once('message', (data: Buffer) => { resolve(JSON.parse(data.toString()) as { topic: string }); ws.close() })
      ws.once('error', reject)
    })
    assert.equal(frame.topic, 'agents/main-actor/heartbeat')
    const client = await mqtt.connectAsync(`wss://127.0.0.1:${nginx.port}/mqtt`, { ca, username: 'tls', password: key, reconnectPeriod: 0 })
    try {
      const beat = new Promise<string>((resolve) => client.once('message', (topic) => resolve(topic)))
      await client.subscribeAsync('agents/main-actor/heartbeat')
      assert.equal(await beat, 'agents/main-actor/heartbeat')
    } finally {
      await client.endAsync()
    }
  })
})

describe('nginx when Colony does not answer in time', function () {
  let nginx: Nginx
  let silent: Server
  const sockets = new Set<Socket>()

  before(async function () {
    // Accepts connections and never answers: a stuck upstream.
    silent = createServer((socket) => { sockets.add(socket); socket.on('close', () => sockets.delete(socket)) })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()))
    nginx = await startNginx({ upstream: `127.0.0.1:${(silent.address() as { port: number }).port}`, readTimeout: '1s' })
  })
  after(async function () {
    await nginx?.stop()
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => silent.close(() => resolve()))
  })

  it('answers 504 colony_timeout in Colony\'s JSON format after --read-timeout', async function () {
    const started = Date.now()
    const res = await send(nginx.port, 'GET', '/api/actors')
    assert.equal(res.status, 504, res.text)
    assert.equal(res.json.error.code, 'colony_timeout')
    assert.equal(res.headers['x-content-type-options'], 'nosniff')
    assert.ok(Date.now() - started >= 900, 'after the read timeout, not before')
  })
})

describe('nginx while Colony is down', function () {
  let nginx: Nginx
  let colony: TestColony | undefined
  let port: number

  before(async function () {
    // A port nothing listens on yet; Colony takes it later in the test.
    port = await freePort()
    nginx = await startNginx({ upstream: `127.0.0.1:${port}` })
  })
  after(async function () {
    await nginx?.stop()
    await colony?.close()
  })

  it('answers 502 colony_unreachable in Colony\'s JSON format on every path, uploads and WebSockets included; then recovers', async function () {
    const paths: Array<[string, string]> = [['GET', '/api/actors'], ['GET', '/'], ['POST', '/v1/envs/default/components'], ['PATCH', '/v1/components/x'], ['GET', '/ws']]
    for (const [method, path] of paths) {
      const res = await send(nginx.port, method, path, { headers: path === '/ws' ? { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } : {} })
      assert.equal(res.status, 502, `${method} ${path}: ${res.text}`)
      assert.match(String(res.headers['content-type']), /^application\/json/)
      assert.equal(res.json.error.code, 'colony_unreachable', `${method} ${path}`)
      assert.equal(res.headers['x-content-type-options'], 'nosniff', 'the security headers are on errors too')
    }
    colony = await startColony({ config: { http: { port } } })
    const res = await send(nginx.port, 'GET', '/api/actors', { headers: { 'x-api-key': colony.rt.identity.bootstrap?.apiKey as string } })
    assert.equal(res.status, 200, res.text)
    assert.ok(Array.isArray(res.json))
  })
})

describe('http.proxyAddresses: X-Forwarded-* only from the proxy', function () {
  let colony: TestColony | undefined
  afterEach(async function () {
    await colony?.close()
    colony = undefined
  })

  async function logins (proxyAddresses: string | undefined, forged: string[]): Promise<number[]> {
    colony = await startColony({
      config: { http: { trustProxy: true, ...(proxyAddresses !== undefined && { proxyAddresses }) }, auth: { loginMaxPerAddress: 2, loginMaxPerAccount: 1000 } },
    })
    const port = Number(new URL(colony.rt.urls.http).port)
    const statuses: number[] = []
    for (const xff of forged) {
      const res = await send(port, 'POST', '/v1/auth/login', { body: JSON.stringify(failedLogin), headers: { 'content-type': 'application/json', 'x-forwarded-for': xff } })
      statuses.push(res.status)
    }
    return statuses
  }

  it('from a proxy address (127.0.0.1 is one by default), two X-Forwarded-For clients are limited separately', async function () {
    assert.deepEqual(await logins(undefined, ['198.51.100.1', '198.51.100.1', '198.51.100.2', '198.51.100.1', '198.51.100.2']), [401, 401, 401, 429, 401])
  })

  it('from any other peer, a forged X-Forwarded-For is removed: every attempt counts against the real peer', async function () {
    assert.deepEqual(await logins('10.255.255.1', ['198.51.100.1', '198.51.100.2', '198.51.100.3']), [401, 401, 429])
  })
})
