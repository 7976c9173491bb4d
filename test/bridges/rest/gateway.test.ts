import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startColony, type TestColony } from '../../helpers/runtime.js'
import { assertError, call, create, fixture, linkKeyvalue, invokeOk } from '../../helpers/components.js'
import { as, signup } from '../../helpers/identity.js'
import { request } from '../../helpers/http.js'
import { createTeam, switchTeam } from '../../helpers/teams.js'

interface SiteAnswer { status: number, headers: Record<string, string | string[] | undefined>, text: string, json: any }

/** One plain HTTP request with a chosen Host header (fetch would not let the test pick it). */
function site (port: number, host: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<SiteAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port, method, path, agent: false,
      headers: { host, ...headers, ...(body !== undefined && { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }) },
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try { json = text === '' ? undefined : JSON.parse(text) } catch { json = undefined }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** The counter routes of these tests: get, increment, and the adder behind a query and a body. */
function counterRoutes (counter: string, adder: string): unknown[] {
  return [
    {
      method: 'Get',
      path: '/counters/{name}',
      binding: {
        componentId: { componentId: counter, version: 0 },
        workerName: '"counter-${request.path.name}"',
        response: 'let n = colony:counter/api.{get}();\n{status: 200u64, body: {name: request.path.name, count: n}, headers: {x-counter: "${n}"}}',
      },
    },
    {
      method: 'Post',
      path: '/counters/{name}/increment',
      binding: { componentId: { componentId: counter }, workerName: '"counter-${request.path.name}"', response: 'let worker = instance("x"); worker.increment()' },
    },
    {
      method: 'Post',
      path: '/add?{a}',
      binding: { componentId: adder, response: 'let a: s32 = request.query.a; let sum = add(a, request.body.b); {status: 201, body: {sum: sum}}' },
    },
    {
      method: 'Get',
      path: '/greet/{+who}',
      binding: { componentId: adder, response: '{body: math.greet(request.path.who), headers: {Content-Type: "text/plain"}}' },
    },
  ]
}

describe('REST: the Worker Gateway (API definitions, deployments, deployed routes over plain HTTP)', function () {
  this.timeout(60_000)
  let dir: string
  let colony: TestColony | undefined

  const start = async (): Promise<{ base: string, port: number }> => {
    colony = await startColony({ config: { data: { dir } } })
    return { base: colony.rt.urls.http, port: colony.rt.addresses.http.port }
  }

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'colony-gateway-')) })
  afterEach(async () => {
    await colony?.close()
    colony = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  it('CRUD, draft until published, a deployed version is immutable, and the routes answer through plain HTTP', async () => {
    const { base, port } = await start()
    const counter = await create(base, 'counter', await fixture('counter'))
    assert.equal((await linkKeyvalue(base, counter)).status, 200)
    const adder = await create(base, 'adder', await fixture('adder'))
    const routes = counterRoutes(counter, adder)

    const created = await call('POST', `${base}/v1/api/definitions`, { id: 'counters', version: '0.1.0', routes })
    assert.equal(created.status, 200, JSON.stringify(created.body))
    assert.equal(created.body.draft, true)
    assert.equal(created.body.routes[0].method, 'Get')
    assert.deepEqual(created.body.routes[2].binding.componentId, { componentId: adder }, 'the id alone is stored in Golem\'s form')
    assert.equal(created.body.routes[2].binding.bindingType, 'default')
    assertError(await call('POST', `${base}/v1/api/definitions`, { id: 'counters', version: '0.1.0', routes }), 409, 'api_definition_exists')
    assert.equal((await call('POST', `${base}/v1/api/definitions`, { id: 'other', version: '1', routes: [] })).status, 200)

    const listed = await call('GET', `${base}/v1/api/definitions?api-definition-id=counters`)
    assert.deepEqual(listed.body.map((d: any) => [d.id, d.version]), [['counters', '0.1.0']])
    assert.equal((await call('GET', `${base}/v1/api/definitions`)).body.length, 2)
    const got = await call('GET', `${base}/v1/api/definitions/counters/0.1.0`)
    assert.deepEqual(got.body, created.body)

    const deployment = { apiDefinitions: [{ id: 'counters', version: '0.1.0' }], site: { host: 'example.test:9006', subdomain: 'api' } }
    assertError(await call('POST', `${base}/v1/api/deployments`, deployment), 409, 'api_definition_draft')
    // Published with PUT (the routes again, as Golem's update takes the whole definition).
    const published = await call('PUT', `${base}/v1/api/definitions/counters/0.1.0`, { draft: false, routes })
    assert.equal(published.status, 200, JSON.stringify(published.body))
    assert.equal(published.body.draft, false)
    const deployed = await call('POST', `${base}/v1/api/deployments`, deployment)
    assert.equal(deployed.status, 200, JSON.stringify(deployed.body))
    assert.deepEqual(deployed.body.apiDefinitions, [{ id: 'counters', version: '0.1.0' }])
    assert.deepEqual(deployed.body.site, { host: 'example.test:9006', subdomain: 'api' })

    // Deployed: frozen.
    assertError(await call('PUT', `${base}/v1/api/definitions/counters/0.1.0`, { routes: [] }), 409, 'api_definition_deployed')
    assertError(await call('DELETE', `${base}/v1/api/definitions/counters/0.1.0`), 409, 'api_definition_deployed')

    // Served: any port, any case of the host.
    const host = 'API.example.test:1234'
    let res = await site(port, host, 'GET', '/counters/c1')
    assert.equal(res.status, 200, res.text)
    assert.deepEqual(res.json, { name: 'c1', count: 0 })
    assert.equal(res.headers['x-counter'], '0')
    assert.match(String(res.headers['content-type']), /^application\/json/)
    for (let i = 1; i <= 3; i++) assert.equal((await site(port, host, 'POST', '/counters/c1/increment')).json, i)
    res = await site(port, host, 'GET', '/counters/c1')
    assert.deepEqual(res.json, { name: 'c1', count: 3 }, 'the component\'s value, through the gateway')
    assert.equal(await invokeOk(base, counter, 'get', []), 3, 'the same state the component API sees')

    res = await site(port, host, 'POST', '/add?a=40', JSON.stringify({ b: 2 }))
    assert.equal(res.status, 201, res.text)
    assert.deepEqual(res.json, { sum: 42 })
    res = await site(port, host, 'GET', '/greet/a%20b/c')
    assert.equal(res.status, 200, res.text)
    assert.equal(res.text, 'hello, a b/c')
    assert.match(String(res.headers['content-type']), /^text\/plain/)

    // Deployed routes read no credentials: a wrong key does not matter.
    assert.equal((await site(port, host, 'GET', '/counters/c1', undefined, { authorization: 'Bearer nonsense' })).status, 200)

    // The site's own errors, with codes.
    const siteError = (r: SiteAnswer, status: number, code: string): void => {
      assert.equal(r.status, status, r.text)
      assert.equal(r.json?.error?.code, code, r.text)
    }
    siteError(await site(port, host, 'GET', '/nothing/here'), 404, 'api_route_not_found')
    siteError(await site(port, host, 'DELETE', '/counters/c1'), 404, 'api_route_not_found')
    siteError(await site(port, host, 'GET', '/api/actors'), 404, 'api_route_not_found')
    siteError(await site(port, host, 'POST', '/add', JSON.stringify({ b: 2 })), 400, 'api_input_invalid')
    siteError(await site(port, host, 'POST', '/add?a=x', JSON.stringify({ b: 2 })), 400, 'api_input_invalid')
    siteError(await site(port, host, 'POST', '/add?a=1'), 400, 'api_input_invalid')
    siteError(await site(port, host, 'POST', '/add?a=1', '{"b": '), 400, 'invalid_json')
    siteError(await site(port, host, 'POST', '/add?a=1', JSON.stringify({ c: 2 })), 400, 'api_input_invalid')
    siteError(await site(port, host, 'POST', '/add?a=1', JSON.stringify({ b: 'two' })), 400, 'invalid_params')

    // Another Host is Colony's API, unchanged.
    assert.equal((await site(port, `127.0.0.1:${port}`, 'GET', '/api/health')).status, 200)
    assert.equal((await site(port, 'example.test', 'GET', '/api/health')).status, 200, 'the bare host is not the api. site')

    // Deployments: get, list, filter, and the flat seed shape adds to the same site.
    assert.deepEqual((await call('GET', `${base}/v1/api/deployments/api.example.test`)).body, deployed.body)
    assert.deepEqual((await call('GET', `${base}/v1/api/deployments/API.example.test:9006`)).body, deployed.body, 'named with its port and in any case')
    const mismatch = await call('PUT', `${base}/v1/api/definitions/other/1`, { version: '2', routes: [] })
    assertError(mismatch, 400, 'invalid_body')
    assert.equal(mismatch.body.error.field, 'version')
    assert.equal((await call('GET', `${base}/v1/api/deployments?api-definition-id=counters`)).body.length, 1)
    assert.equal((await call('GET', `${base}/v1/api/deployments?api-definition-id=other`)).body.length, 0)
    assert.equal((await call('PUT', `${base}/v1/api/definitions/other/1`, { draft: false, routes: [] })).status, 200)
    const flat = await call('POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'other', version: '1', site: { host: 'example.test', subdomain: 'api' } })
    assert.equal(flat.status, 200, JSON.stringify(flat.body))
    assert.deepEqual(flat.body.apiDefinitions, [{ id: 'counters', version: '0.1.0' }, { id: 'other', version: '1' }])

    // Undeployed: no longer served, and the definition may change again.
    assert.deepEqual((await call('DELETE', `${base}/v1/api/deployments/api.example.test`)).body, { success: true })
    assert.equal((await site(port, host, 'GET', '/api/health')).status, 200, 'the host is Colony\'s API again')
    assertError(await call('GET', `${base}/v1/api/deployments/api.example.test`), 404, 'api_deployment_not_found')
    assert.equal((await call('DELETE', `${base}/v1/api/definitions/counters/0.1.0`)).status, 200)
    assertError(await call('GET', `${base}/v1/api/definitions/counters/0.1.0`), 404, 'api_definition_not_found')
  })

  it('bad input: malformed JSON, bad Rib, bad paths, conflicts, unknown ids, reserved hosts — each with its code, nothing stored', async () => {
    const { base, port } = await start()
    const b = (response: string, extra: Record<string, unknown> = {}) => ({ componentId: { componentId: 'c', version: 0 }, response, ...extra })
    const malformed = await request('POST', `${base}/v1/api/definitions`, '{"id": "x", ')
    assertError(malformed, 400, 'invalid_json')
    assertError(await call('POST', `${base}/v1/api/definitions`, { id: 'x', routes: [] }), 400, 'invalid_body')
    assertError(await call('POST', `${base}/v1/api/definitions`, { id: 'bad id', version: '1', routes: [] }), 400, 'invalid_body')
    const bad = await call('POST', `${base}/v1/api/definitions`, {
      id: 'x', version: '1', routes: [{ method: 'Get', path: '/a', binding: b('1') }, { method: 'Get', path: '/b/{id}', binding: b('let n = api.get(;\nn') }],
    })
    assertError(bad, 400, 'invalid_binding')
    assert.match(bad.body.error.message, /route 1 \(Get \/b\/\{id\}\) binding.response: .* at line 1, column 17/)
    assert.deepEqual([bad.body.error.route, bad.body.error.field, bad.body.error.line, bad.body.error.column], [1, 'binding.response', 1, 17])
    assertError(await call('POST', `${base}/v1/api/definitions`, { id: 'x', version: '1', routes: [{ method: 'Get', path: '/a/{id}', binding: b('request.path.name') }] }), 400, 'invalid_binding')
    assertError(await call('POST', `${base}/v1/api/definitions`, { id: 'x', version: '1', routes: [{ method: 'Get', path: '/a//b', binding: b('1') }] }), 400, 'invalid_binding')
    assertError(await call('POST', `${base}/v1/api/definitions`, { id: 'x', version: '1', routes: [{ method: 'Teleport', path: '/a', binding: b('1') }] }), 400, 'invalid_binding')
    const conflict = await call('POST', `${base}/v1/api/definitions`, {
      id: 'x', version: '1', routes: [{ method: 'Get', path: '/a/{x}', binding: b('1') }, { method: 'get', path: '/a/{y}', binding: b('2') }],
    })
    assertError(conflict, 409, 'api_route_conflict')
    assert.deepEqual((await call('GET', `${base}/v1/api/definitions`)).body, [], 'nothing was stored')

    assertError(await call('GET', `${base}/v1/api/definitions/nope/1`), 404, 'api_definition_not_found')
    assertError(await call('PUT', `${base}/v1/api/definitions/nope/1`, { routes: [] }), 404, 'api_definition_not_found')
    assertError(await call('DELETE', `${base}/v1/api/definitions/nope/1`), 404, 'api_definition_not_found')
    assertError(await call('POST', `${base}/v1/api/deployments`, { apiDefinitions: [{ id: 'nope', version: '1' }], site: { host: 'x.test' } }), 404, 'api_definition_not_found')
    assertError(await call('POST', `${base}/v1/api/deployments`, { site: { host: 'x.test' } }), 400, 'invalid_body')
    assertError(await call('POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'nope', version: '1', site: { host: 'bad host' } }), 400, 'invalid_body')
    assertError(await call('GET', `${base}/v1/api/deployments/x.test`), 404, 'api_deployment_not_found')
    assertError(await call('DELETE', `${base}/v1/api/deployments/x.test`), 404, 'api_deployment_not_found')

    // Two published definitions whose routes collide cannot share a site; localhost is the API's own host.
    for (const id of ['one', 'two']) {
      assert.equal((await call('POST', `${base}/v1/api/definitions`, { id, version: '1', draft: false, routes: [{ method: 'Get', path: `/same/{${id}}`, binding: b('1') }] })).status, 200)
    }
    assert.equal((await call('POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'one', version: '1', site: { host: 'x.test' } })).status, 200)
    const clash = await call('POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'two', version: '1', site: { host: 'x.test' } })
    assertError(clash, 409, 'api_route_conflict')
    assert.deepEqual((await call('GET', `${base}/v1/api/deployments/x.test`)).body.apiDefinitions, [{ id: 'one', version: '1' }], 'the site is unchanged')
    assertError(await call('POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'two', version: '1', site: { host: 'localhost:8080' } }), 409, 'api_site_taken')

    // Responses without a worker call: the status and headers a script chooses; a status out of range is the script's bug.
    const plain = [
      { method: 'Get', path: '/gone', binding: b('{status: 404}') },
      { method: 'Get', path: '/teapot', binding: b('{status: 418, body: "short and stout", headers: {Content-Type: "text/plain"}}') },
      { method: 'Get', path: '/broken', binding: b('{status: 1000}') },
      { method: 'Get', path: '/echo/{+rest}', binding: b('{body: {rest: request.path.rest, tenant: request.headers.x-tenant}}') },
    ]
    assert.equal((await call('POST', `${base}/v1/api/definitions`, { id: 'plain', version: '1', draft: false, routes: plain })).status, 200)
    assert.equal((await call('POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'plain', version: '1', site: { host: 'plain.test' } })).status, 200)
    const gone = await site(port, 'plain.test', 'GET', '/gone')
    assert.deepEqual([gone.status, gone.text], [404, ''])
    const teapot = await site(port, 'plain.test', 'GET', '/teapot')
    assert.deepEqual([teapot.status, teapot.text], [418, 'short and stout'])
    const broken = await site(port, 'plain.test', 'GET', '/broken')
    assert.deepEqual([broken.status, broken.json?.error?.code], [500, 'api_binding_failed'])
    const echo = await site(port, 'plain.test', 'GET', '/echo/a/b', undefined, { 'X-Tenant': 'acme' })
    assert.deepEqual(echo.json, { rest: 'a/b', tenant: 'acme' })
    const noTenant = await site(port, 'plain.test', 'GET', '/echo/a')
    assert.deepEqual([noTenant.status, noTenant.json?.error?.code], [400, 'api_input_invalid'])
    const head = await site(port, 'plain.test', 'HEAD', '/echo/a', undefined, { 'X-Tenant': 'acme' })
    assert.deepEqual([head.status, head.text], [200, ''], 'HEAD is served by the GET route, without a body')
    assertError(await call('POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'two', version: '1', site: { host: '127.0.0.1' } }), 409, 'api_site_taken')
  })

  it('teams: another team\'s definitions and sites are 404 to it, and it cannot deploy to them', async () => {
    const { base, port } = await start()
    const ann = await signup(base, 'Ann')
    const bob = await signup(base, 'Bob')
    const adder = await create(base, 'adder', await fixture('adder'), { token: ann.token })
    const routes = [{ method: 'Get', path: '/sum/{a}/{b}', binding: { componentId: { componentId: adder }, response: 'let a: s32 = request.path.a; let b: s32 = request.path.b; add(a, b)' } }]
    assert.equal((await as(ann.token, 'POST', `${base}/v1/api/definitions`, { id: 'sums', version: '1', draft: false, routes })).status, 200)
    assert.equal((await as(ann.token, 'POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'sums', version: '1', site: { host: 'sums.test' } })).status, 200)
    assert.equal((await site(port, 'sums.test', 'GET', '/sum/40/2')).json, 42)

    assertError(await as(bob.token, 'GET', `${base}/v1/api/definitions/sums/1`), 404, 'api_definition_not_found')
    assertError(await as(bob.token, 'PUT', `${base}/v1/api/definitions/sums/1`, { routes: [] }), 404, 'api_definition_not_found')
    assertError(await as(bob.token, 'DELETE', `${base}/v1/api/definitions/sums/1`), 404, 'api_definition_not_found')
    assert.deepEqual((await as(bob.token, 'GET', `${base}/v1/api/definitions`)).body, [])
    assertError(await as(bob.token, 'GET', `${base}/v1/api/deployments/sums.test`), 404, 'api_deployment_not_found')
    assertError(await as(bob.token, 'DELETE', `${base}/v1/api/deployments/sums.test`), 404, 'api_deployment_not_found')
    assert.deepEqual((await as(bob.token, 'GET', `${base}/v1/api/deployments`)).body, [])
    assertError(await as(bob.token, 'POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'sums', version: '1', site: { host: 'other.test' } }), 404, 'api_definition_not_found')
    // Bob's own definition of the same id is his, and Ann's site is not his to deploy to.
    assert.equal((await as(bob.token, 'POST', `${base}/v1/api/definitions`, { id: 'sums', version: '1', draft: false, routes: [] })).status, 200)
    assertError(await as(bob.token, 'POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'sums', version: '1', site: { host: 'SUMS.test' } }), 409, 'api_site_taken')
    // Bob's route to Ann's component: the call is made as Bob's team, which cannot see it.
    const stolen = [{ method: 'Get', path: '/steal', binding: { componentId: adder, response: 'add(1, 2)' } }]
    assert.equal((await as(bob.token, 'POST', `${base}/v1/api/definitions`, { id: 'steal', version: '1', draft: false, routes: stolen })).status, 200)
    assert.equal((await as(bob.token, 'POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'steal', version: '1', site: { host: 'bob.test' } })).status, 200)
    const refused = await site(port, 'bob.test', 'GET', '/steal')
    assert.equal(refused.status, 404, refused.text)
    assert.equal(refused.json.error.code, 'component_not_found')
    assert.equal((await site(port, 'sums.test', 'GET', '/sum/1/2')).json, 3, 'Ann\'s site still answers')

    // A deleted team's sites stop answering at once; the host is free for others.
    const shop = await createTeam(base, ann.token, 'Shop')
    const shopToken = await switchTeam(base, ann.token, shop)
    const shopAdder = await create(base, 'adder', await fixture('adder'), { token: shopToken })
    const shopRoutes = [{ method: 'Get', path: '/one', binding: { componentId: shopAdder, response: 'add(0, 1)' } }]
    assert.equal((await as(shopToken, 'POST', `${base}/v1/api/definitions`, { id: 'shop', version: '1', draft: false, routes: shopRoutes })).status, 200)
    assert.equal((await as(shopToken, 'POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'shop', version: '1', site: { host: 'shop.test' } })).status, 200)
    assert.equal((await site(port, 'shop.test', 'GET', '/one')).json, 1)
    assert.equal((await as(shopToken, 'DELETE', `${base}/v1/teams/${shop}`)).status, 204)
    assert.equal((await site(port, 'shop.test', 'GET', '/api/health')).status, 200, 'shop.test is Colony\'s API again')
    assert.equal((await as(bob.token, 'POST', `${base}/v1/api/deployments`, { apiDefinitionId: 'sums', version: '1', site: { host: 'shop.test' } })).status, 200)
  })

  it('deployments survive a restart on the same data dir (real SQLite file) and are served before the first request', async () => {
    let { base, port } = await start()
    const adder = await create(base, 'adder', await fixture('adder'))
    const routes = [{ method: 'Get', path: '/greet/{name}', binding: { componentId: { componentId: adder }, response: 'math.greet(request.path.name)' } }]
    assert.equal((await call('POST', `${base}/v1/api/definitions`, { id: 'greeter', version: '2', draft: false, routes })).status, 200)
    assert.equal((await call('POST', `${base}/v1/api/deployments`, { apiDefinitions: [{ id: 'greeter', version: '2' }], site: { host: 'greet.test' } })).status, 200)
    assert.equal((await site(port, 'greet.test', 'GET', '/greet/ann')).json, 'hello, ann')
    await colony?.close()
    colony = undefined

    ;({ base, port } = await start())
    assert.equal((await site(port, 'greet.test', 'GET', '/greet/bob')).json, 'hello, bob')
    assert.deepEqual((await call('GET', `${base}/v1/api/deployments/greet.test`)).body.apiDefinitions, [{ id: 'greeter', version: '2' }])
    assertError(await call('DELETE', `${base}/v1/api/definitions/greeter/2`), 409, 'api_definition_deployed')
  })
})
