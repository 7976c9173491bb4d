import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { Validator } from '@seriousme/openapi-schema-validator'
import { startColony, type TestColony } from '../../helpers/runtime.js'
import { signup, type Account } from '../../helpers/identity.js'
import { anyJson, fromSchema } from '../../helpers/schema-arbitrary.js'

type Json = Record<string, any>

/** Fixed, so a run is repeatable; FUZZ_SEED explores others (a failure prints the seed and the shrunk case). */
const SEED = Number(process.env.FUZZ_SEED ?? 20261206)

interface Operation { method: string, path: string, op: Json }

interface Answer { status: number, type: string, text: string, json: unknown }

/** One raw HTTP request: the path goes out byte for byte (fetch would normalize `..` and re-encode `%`). */
function send (port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body !== undefined && { 'content-length': String(body.length) }) }, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try { json = JSON.parse(text) } catch { json = undefined }
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text, json })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

function operations (doc: Json): Operation[] {
  const out: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) out.push({ method: method.toUpperCase(), path, op: op as Json })
  }
  return out
}

/** The routes the README's REST tables name, as `METHOD /path` with parameters in OpenAPI form. */
function readmeRoutes (): Set<string> {
  const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8')
  const routes = new Set<string>()
  for (const match of readme.matchAll(/^\|\s*`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s?]*)[^`]*`/gm)) {
    // The dashboard's page and files are static assets, not API routes.
    if (match[2] === '/') continue
    routes.add(`${match[1]} ${match[2]!.replace(/:(\w+)/g, '{$1}')}`)
  }
  return routes
}

describe('REST: GET /openapi.json describes every route, and every route survives random and malformed input', function () {
  this.timeout(90_000)
  let colony: TestColony
  let base: string
  let port: number
  let doc: Json
  let user: Account

  before(async () => {
    // Credentials required, so that "no credentials" is a real case and a request from this test is not the admin.
    colony = await startColony({ config: { auth: { mode: 'required' } } })
    base = colony.rt.urls.http
    port = colony.rt.addresses.http.port
    user = await signup(base, 'Fuzzer')
    const res = await fetch(`${base}/openapi.json`)
    assert.equal(res.status, 200)
    doc = await res.json() as Json
  })
  after(async () => { await colony.close() })

  it('is a valid OpenAPI 3.1 document, public, and lists the Wactorz, Wrenn and Golem routes', async () => {
    const result = await new Validator().validate(doc)
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 2000))
    assert.match(doc.openapi, /^3\.1\./)
    const listed = new Set(operations(doc).map((o) => `${o.method} ${o.path}`))
    for (const route of ['GET /api/actors', 'POST /api/chat', 'POST /v1/auth/login', 'GET /v1/teams/{id}/members', 'POST /v1/envs/{env}/components',
      'POST /v1/components/{id}/invoke-and-await', 'PUT /v1/links', 'GET /openapi.json']) {
      assert.ok(listed.has(route), `${route} is listed`)
    }
    // Public routes say so (no security); the rest inherit bearer or X-API-Key.
    assert.deepEqual(doc.paths['/v1/auth/login'].post.security, [])
    assert.equal(doc.paths['/api/actors'].get.security, undefined)
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'bearer'])
    // Every operation has an id, a summary and its error codes with their statuses.
    const ids = new Set<string>()
    for (const { method, path, op } of operations(doc)) {
      assert.equal(typeof op.summary, 'string', `${method} ${path}`)
      assert.ok(!ids.has(op.operationId), `operationId ${op.operationId} is unique`)
      ids.add(op.operationId)
      if (op.security === undefined) assert.ok(op.responses['401'] !== undefined, `${method} ${path} documents 401`)
    }
  })

  it('lists exactly the routes the README documents, and each answers (never route_not_found or method_not_allowed)', async () => {
    const listed = new Set(operations(doc).map((o) => `${o.method} ${o.path}`))
    const documented = readmeRoutes()
    assert.ok(documented.size > 20, `the README's tables were read (${documented.size} routes)`)
    assert.deepEqual([...documented].filter((r) => !listed.has(r)).sort(), [], 'README routes missing from /openapi.json')
    assert.deepEqual([...listed].filter((r) => !documented.has(r)).sort(), [], '/openapi.json routes missing from the README')
    for (const { method, path } of operations(doc)) {
      const res = await send(port, method, path.replace(/\{\w+\}/g, 'probe'), { authorization: `Bearer ${user.token}` })
      // Not the router's answers: a 404 from a route itself (no such config) says what is missing instead.
      const error = (res.json as Json | undefined)?.error as Json | undefined
      assert.ok(res.status !== 405 && !String(error?.message).startsWith('no route for'), `${method} ${path} is served (${res.status} ${JSON.stringify(error)})`)
    }
  })

  it('random and malformed requests: no 5xx, every error has a declared code, 2xx bodies match their schema, a 4xx changes nothing', async () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false })
    const ops = operations(doc)
    const db = colony.rt.identity.store.db
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'retained_messages'").all() as Array<{ name: string }>).map((t) => t.name)
    // What a refused request must not change: every stored row (the retained-message journal aside: actors publish
    // on their own) and the actor registry.
    const fingerprint = (): string => {
      const hash = createHash('sha256')
      // Rows sorted as text: some tables (the workers' oplog, keys) are WITHOUT ROWID, so there is no rowid to order by.
      for (const table of tables) hash.update(table).update(JSON.stringify(db.prepare(`SELECT * FROM "${table}"`).raw().all().map((r) => JSON.stringify(r)).sort()))
      return `${hash.digest('hex')}/${colony.rt.system.version()}`
    }
    const known = fc.constantFrom(user.team_id, user.user_id, 'main-actor', 'echo', 'default', 'wasi', 'keyvalue-provider')
    const rawSegment = fc.oneof(
      { weight: 3, arbitrary: known },
      // Never empty: an empty segment is another path (the authenticator and the router see no such route).
      { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 30 }).map(encodeURIComponent) },
      { weight: 2, arbitrary: fc.constantFrom('..', '%2e%2e', '%00', '%ZZ', '%', '%F0%9F%90%9D', 'x'.repeat(300), '%2F', ';', '*') },
    )
    const bodyFor = (op: Json): fc.Arbitrary<{ type?: string, bytes?: Buffer }> => {
      const content = op.requestBody?.content as Json | undefined
      const json = content?.['application/json']?.schema as Json | undefined
      const shaped = json === undefined ? anyJson : fromSchema(json)
      return fc.oneof(
        { weight: 5, arbitrary: shaped.map((v) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify(v) ?? 'null') })) },
        { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => ({ type: 'application/json', bytes: Buffer.from(s) })) },
        { weight: 1, arbitrary: fc.constantFrom('text/xml', 'multipart/form-data', 'multipart/form-data; boundary=x', 'application/octet-stream').map((type) => ({ type, bytes: Buffer.from('--x\r\n\r\n<a/>') })) },
        { weight: 1, arbitrary: fc.constant({}) },
      )
    }
    const requestFor = fc.constantFrom(...ops).chain((o) => fc.record({
      o: fc.constant(o),
      segments: fc.array(rawSegment, { minLength: 8, maxLength: 8 }),
      query: fc.dictionary(fc.constantFrom('include', 'function', 'email', 'source_id', 'code', 'state', 'error', 'x'), fc.oneof(fc.string({ maxLength: 12 }).map(encodeURIComponent), fc.constantFrom('heartbeat', 'add', 'a@', '%ZZ')), { maxKeys: 3 }),
      body: bodyFor(o.op),
      auth: fc.constantFrom<'user' | 'none' | 'bad'>('user', 'user', 'user', 'user', 'none', 'bad'),
    }))

    const problems: string[] = []
    await fc.assert(fc.asyncProperty(requestFor, async ({ o, segments, query, body, auth }) => {
      let i = 0
      const path = o.path.replace(/\{\w+\}/g, () => segments[i++]!)
      const search = Object.entries(query).map(([k, v]) => `${k}=${v}`).join('&')
      const headers: Record<string, string> = {}
      if (auth === 'user') headers.authorization = `Bearer ${user.token}`
      if (auth === 'bad') headers['x-api-key'] = 'cly_not-a-key'
      if (body.type !== undefined) headers['content-type'] = body.type
      const before = fingerprint()
      const res = await send(port, o.method, search === '' ? path : `${path}?${search}`, headers, body.bytes)
      const what = `${o.method} ${path}${search === '' ? '' : `?${search}`} (${auth}) -> ${res.status} ${res.text.slice(0, 160)}`
      assert.ok(res.status < 500, what)
      if (res.status >= 400) {
        assert.equal(fingerprint(), before, `a refused request changed nothing: ${what}`)
        const declared = o.op.responses[String(res.status)] as Json | undefined
        const code = (res.json as Json | undefined)?.error?.code as unknown
        if (o.path === '/ha-map' && res.status === 404) return
        assert.equal(typeof code, 'string', `every error has a code: ${what}`)
        // Routing answers (a path that matches no route once decoded) are the router's, not the operation's.
        if (code === 'route_not_found' || code === 'method_not_allowed') return
        const codes = declared?.content?.['application/json']?.schema?.properties?.error?.properties?.code?.enum as string[] | undefined
        if (codes === undefined || !codes.includes(code as string)) problems.push(`${o.method} ${o.path}: ${String(code)} (${res.status}) is not declared`)
      } else if (res.status < 300 && res.type.startsWith('application/json')) {
        const schema = o.op.responses[String(res.status)]?.content?.['application/json']?.schema as Json | undefined
        if (schema !== undefined && !ajv.validate(schema, res.json)) problems.push(`${o.method} ${o.path}: ${res.status} body does not match its schema: ${ajv.errorsText()}`)
      }
    }), { seed: SEED, numRuns: 2000, endOnFailure: true })
    assert.deepEqual([...new Set(problems)], [])
    // And the runtime is still whole.
    assert.equal((await fetch(`${base}/api/health`)).status, 200)
  })
})
