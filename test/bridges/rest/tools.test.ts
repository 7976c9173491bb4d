import assert from 'node:assert/strict'
import { Type } from '@sinclair/typebox'
import { Ajv } from 'ajv'
import { ColonyError } from '../../../src/index.js'
import { RouteTable } from '../../../bridges/rest/route-table.js'
import type { ApiFamily, Routes } from '../../../bridges/rest/route.js'
import * as components from '../../../bridges/rest/components.js'
import * as workers from '../../../bridges/rest/workers.js'
import * as capsules from '../../../bridges/rest/capsules.js'
import * as snapshots from '../../../bridges/rest/snapshots.js'
import * as sessions from '../../../bridges/rest/sessions.js'
import { TOOL_NAME, toolDefinitions, toolName, toolRequest, type Tool, type ToolCall, type ToolRequest } from '../../../bridges/rest/tools.js'
import { startColony, type TestColony } from '../../helpers/runtime.js'
import { create, fixture } from '../../helpers/components.js'

type Json = Record<string, any>

/** The JSON Schema vocabulary an LLM vendor takes, strict: an unknown keyword or a malformed schema fails to compile. */
const ajv = new Ajv({ strict: true, allErrors: true })

const Parameters = {
  type: 'object',
  required: ['type', 'properties', 'additionalProperties'],
  properties: {
    type: { const: 'object' },
    properties: { type: 'object' },
    required: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    additionalProperties: { const: false },
  },
}
const OPENAI_TOOL = ajv.compile({
  type: 'object',
  required: ['type', 'function'],
  additionalProperties: false,
  properties: {
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name', 'description', 'parameters'],
      additionalProperties: false,
      properties: { name: { type: 'string', pattern: TOOL_NAME.source }, description: { type: 'string', minLength: 1 }, parameters: Parameters },
    },
  },
})
const ANTHROPIC_TOOL = ajv.compile({
  type: 'object',
  required: ['name', 'description', 'input_schema'],
  additionalProperties: false,
  properties: { name: { type: 'string', pattern: TOOL_NAME.source }, description: { type: 'string', minLength: 1 }, input_schema: Parameters },
})

/** The families that declare tools, on a table of their own: the same declarations the server makes (handlers never run). */
function localTools (): ReadonlyMap<string, Tool> {
  const table = new RouteTable()
  table.register(components, {} as never)
  table.register(workers, { http: { routeMatching: () => () => {} }, onStop: () => {} } as never)
  table.register(capsules, { http: { routeMatching: () => () => {} }, onStop: () => {} } as never)
  table.register(snapshots, {} as never)
  table.register(sessions, {} as never)
  return table.tools
}

/** A table holding just `declare`'s routes. */
function tableOf (declare: (routes: Routes) => void): RouteTable {
  const table = new RouteTable()
  const family: ApiFamily<undefined> = { name: 'Test', register: (routes) => { declare(routes) } }
  table.register(family, undefined)
  return table
}

const ok = (): Record<string, never> => ({})

async function execute (base: string, req: ToolRequest): Promise<{ status: number, body: any }> {
  const res = await fetch(`${base}${req.url}`, {
    method: req.method,
    ...(req.body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(req.body) }),
  })
  return { status: res.status, body: await res.json() }
}

describe('LLM tools: names, schemas and calls made from the route declarations', () => {
  it('names a route by method and path in snake_case, at most 64 characters, stable', () => {
    assert.equal(toolName('POST', '/v1/capsules/{id}/exec'), 'post_v1_capsules_id_exec')
    assert.equal(toolName('POST', '/v1/components/{id}/workers/{name}/invoke-and-await'), 'post_v1_components_id_workers_name_invoke_and_await')
    const long = `/v1/${'segment/'.repeat(10)}{id}`
    const name = toolName('GET', long)
    assert.equal(name.length, 64)
    assert.match(name, TOOL_NAME)
    assert.equal(toolName('GET', long), name)
    assert.notEqual(toolName('GET', `${long}/x`), name, 'two long paths with one prefix still differ')
    assert.notEqual(toolName('DELETE', long), name)
  })

  it('refuses two tools of one name when they are declared (derived or given), a bad name, a multipart or non-object body, an argument in two parts', () => {
    const route = (path: string, extra: Json = {}): Json => ({ method: 'POST', path, summary: 's', responses: {}, errors: [], handle: ok, ...extra })
    assert.throws(() => tableOf((r) => {
      r.route(route('/v1/a-b', { tool: true }) as never)
      r.route(route('/v1/a_b', { tool: true }) as never)
    }), /tool post_v1_a_b of POST \/v1\/a_b is already POST \/v1\/a-b's/)
    assert.throws(() => tableOf((r) => {
      r.route(route('/v1/x', { tool: { name: 'same' } }) as never)
      r.route(route('/v1/y', { tool: { name: 'same' } }) as never)
    }), /tool same/)
    // Not a tool: no clash.
    tableOf((r) => {
      r.route(route('/v1/a-b', { tool: true }) as never)
      r.route(route('/v1/a_b') as never)
    })
    assert.throws(() => tableOf((r) => { r.route(route('/v1/x', { tool: { name: 'has space' } }) as never) }), /1 to 64/)
    assert.throws(() => tableOf((r) => { r.route(route('/v1/x', { tool: { name: 'x'.repeat(65) } }) as never) }), /1 to 64/)
    assert.throws(() => tableOf((r) => { r.route(route('/v1/x', { tool: true, body: Type.Object({}), bodyKind: 'multipart' }) as never) }), /multipart/)
    assert.throws(() => tableOf((r) => { r.route(route('/v1/x', { tool: true, body: Type.Array(Type.String()) }) as never) }), /object schema/)
    assert.throws(() => tableOf((r) => {
      r.route(route('/v1/x/{id}', { tool: true, params: Type.Object({ id: Type.String() }), body: Type.Object({ id: Type.String() }) }) as never)
    }), /argument id is both a params and a body field/)
  })

  it('merges path parameters, query and body into one object schema, and maps a call back to its request', () => {
    const table = tableOf((r) => {
      r.route({
        method: 'POST',
        path: '/v1/things/{id}/do',
        summary: 'Does a thing',
        tool: { description: 'Does a thing, for an agent' },
        params: Type.Object({ id: Type.String() }),
        query: Type.Object({ mode: Type.Optional(Type.String()), tag: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])) }),
        body: Type.Object({ n: Type.Integer(), note: Type.Optional(Type.String()) }),
        responses: {},
        errors: [],
        handle: ok,
      })
      r.route({ method: 'GET', path: '/v1/plain', summary: 'Plain', tool: true, responses: {}, errors: [], handle: ok })
    })
    const tool = table.tools.get('post_v1_things_id_do')!
    assert.equal(tool.description, 'Does a thing, for an agent')
    assert.deepEqual(tool.parameters, {
      type: 'object',
      properties: {
        id: { type: 'string' },
        mode: { type: 'string' },
        tag: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
        n: { type: 'integer' },
        note: { type: 'string' },
      },
      required: ['id', 'n'],
      additionalProperties: false,
    })
    assert.deepEqual(table.tools.get('get_v1_plain')!.parameters, { type: 'object', properties: {}, additionalProperties: false })
    assert.deepEqual(toolDefinitions([tool], 'anthropic'), [{ name: tool.name, description: tool.description, input_schema: tool.parameters }])

    // OpenAI sends the arguments as a JSON string, Anthropic as an object: both map the same.
    const args = { id: 'a/b c?', mode: 'fast', tag: ['x', 'y z'], n: 3 }
    for (const call of [{ name: tool.name, arguments: JSON.stringify(args) }, { name: tool.name, arguments: args }] satisfies ToolCall[]) {
      assert.deepEqual(toolRequest(table.tools, call), {
        method: 'POST',
        path: '/v1/things/a%2Fb%20c%3F/do',
        query: { mode: 'fast', tag: ['x', 'y z'] },
        url: '/v1/things/a%2Fb%20c%3F/do?mode=fast&tag=x&tag=y+z',
        body: { n: 3 },
      })
    }
    assert.deepEqual(toolRequest(table.tools, { name: 'get_v1_plain' }), { method: 'GET', path: '/v1/plain', query: {}, url: '/v1/plain' })
    const refused = (call: ToolCall, code: string, message: RegExp): void => {
      assert.throws(() => toolRequest(table.tools, call), (err: unknown) => err instanceof ColonyError && err.code === code && message.test(err.message), JSON.stringify(call))
    }
    refused({ name: 'nope' }, 'route_not_found', /no tool named "nope"/)
    refused({ name: tool.name, arguments: { id: 'x' } }, 'invalid_body', /^n is required/)
    refused({ name: tool.name, arguments: { id: 'x', n: 1, extra: true } }, 'invalid_body', /^extra is not a known field/)
    refused({ name: tool.name, arguments: { id: 'x', n: 'one' } }, 'invalid_body', /^n must be an integer/)
    refused({ name: tool.name, arguments: '{"id":' }, 'invalid_json', /not JSON/)
    refused({ name: tool.name, arguments: '[1]' }, 'invalid_body', /object/)
    refused({ name: tool.name, arguments: { id: '', n: 1 } }, 'invalid_body', /^id must not be empty/)
    // A dot segment would be resolved into another route by a client or a proxy: it goes encoded.
    assert.equal(toolRequest(table.tools, { name: tool.name, arguments: { id: '..', n: 1 } }).path, '/v1/things/%2E%2E/do')
    assert.equal(toolRequest(table.tools, { name: tool.name, arguments: { id: '.', n: 1 } }).path, '/v1/things/%2E/do')
    assert.equal(toolRequest(table.tools, { name: tool.name, arguments: { id: '...', n: 1 } }).path, '/v1/things/.../do')
  })

  describe('GET /api/v1/tools on a runtime', function () {
    this.timeout(30_000)
    let colony: TestColony
    let base: string
    let openai: Json[]
    let anthropic: Json[]
    const tools = localTools()

    before(async () => {
      colony = await startColony({ config: { wasm: { callTimeoutMs: 10_000 } } })
      base = colony.rt.urls.http
      const first = await fetch(`${base}/api/v1/tools`)
      assert.equal(first.status, 200)
      assert.match(first.headers.get('content-type') ?? '', /^application\/json/)
      openai = await first.json() as Json[]
      anthropic = await (await fetch(`${base}/api/v1/tools?format=anthropic`)).json() as Json[]
    })
    after(async () => { await colony?.close() })

    it('is a bare array in either format (openai by default), with the workers and component invoke routes; a bad format is 400 invalid_query', async () => {
      assert.ok(Array.isArray(openai) && Array.isArray(anthropic))
      assert.deepEqual(await (await fetch(`${base}/api/v1/tools?format=openai`)).json(), openai)
      const names = openai.map((t) => t.function.name as string)
      assert.deepEqual(anthropic.map((t) => t.name), names)
      for (const expected of ['post_v1_components_id_invoke_and_await', 'post_v1_components_id_workers_name_invoke_and_await',
        'post_v1_components_id_workers_name_invoke', 'get_v1_components_id_workers_name', 'get_v1_components_id_workers',
        'get_v1_components_id_workers_name_oplog', 'post_v1_components_id_workers_name_interrupt', 'post_v1_components_id_workers_name_resume']) {
        assert.ok(names.includes(expected), `${expected} is a tool`)
      }
      // Not every route: deleting a worker or uploading a component is not offered.
      assert.ok(!names.includes('delete_v1_components_id_workers_name'))
      for (const bad of ['gemini', 'OPENAI', '']) {
        const res = await fetch(`${base}/api/v1/tools?format=${bad}`)
        assert.equal(res.status, 400, bad)
        assert.equal(((await res.json()) as Json).error.code, 'invalid_query')
      }
    })

    it('every tool: a valid envelope, a unique valid name, a schema that compiles, additionalProperties false, the same in both formats', () => {
      const seen = new Set<string>()
      openai.forEach((tool, i) => {
        assert.ok(OPENAI_TOOL(tool), `openai ${JSON.stringify(tool).slice(0, 200)}: ${ajv.errorsText(OPENAI_TOOL.errors)}`)
        const other = anthropic[i]!
        assert.ok(ANTHROPIC_TOOL(other), `anthropic ${JSON.stringify(other).slice(0, 200)}: ${ajv.errorsText(ANTHROPIC_TOOL.errors)}`)
        const { name, description, parameters } = tool.function as Json
        assert.deepEqual(other, { name, description, input_schema: parameters })
        assert.match(name, TOOL_NAME)
        assert.ok(!seen.has(name), `${name} is unique`)
        seen.add(name)
        assert.equal(ajv.validateSchema(parameters), true, `${name}: ${ajv.errorsText()}`)
        assert.doesNotThrow(() => ajv.compile(parameters), name)
        assert.equal(parameters.type, 'object')
        assert.equal(parameters.additionalProperties, false)
        for (const key of parameters.required ?? []) assert.ok(Object.hasOwn(parameters.properties, key), `${name}: required ${key} is a property`)
      })
    })

    it('every tool names a route that is served (never route_not_found or method_not_allowed)', async () => {
      assert.deepEqual(openai.map((t) => t.function.name).sort(), [...tools.keys()].sort(), 'the server offers the tools these families declare')
      for (const tool of tools.values()) {
        const served = openai.find((t) => t.function.name === tool.name)!
        assert.deepEqual(served.function, { name: tool.name, description: tool.description, parameters: tool.parameters })
        const res = await fetch(`${base}${tool.path.replace(/\{\w+\}/g, 'probe')}`, { method: tool.method })
        const error = ((await res.json()) as Json | undefined)?.error as Json | undefined
        assert.ok(res.status !== 405 && error?.code !== 'route_not_found', `${tool.method} ${tool.path} is served (${res.status} ${JSON.stringify(error)})`)
      }
    })

    it('a tool loop round trip: invoke-and-await on a memcounter worker, from the served schema to the result', async () => {
      const id = await create(base, 'memcounter', await fixture('memcounter'))
      const served = openai.find((t) => t.function.name === 'post_v1_components_id_workers_name_invoke_and_await')!
      const parameters = served.function.parameters as Json
      assert.deepEqual([...parameters.required].sort(), ['function', 'id', 'name'])
      // What a model would answer, checked against the schema it was given.
      const args = { id, name: 'tool worker 1', function: 'add', params: [41] }
      assert.ok(ajv.validate(parameters, args), ajv.errorsText())
      const req = toolRequest(tools, { name: served.function.name, arguments: JSON.stringify(args) })
      assert.equal(req.method, 'POST')
      assert.equal(req.path, `/v1/components/${encodeURIComponent(id)}/workers/tool%20worker%201/invoke-and-await`)
      assert.deepEqual(req.body, { params: [41] })
      const first = await execute(base, req)
      assert.equal(first.status, 200, JSON.stringify(first.body))
      assert.equal(first.body.result.value[0], 41)
      const again = await execute(base, toolRequest(tools, { name: served.function.name, arguments: { ...args, function: 'increment', params: [] } }))
      assert.equal(again.body.result.value[0], 42)
      // The same worker through its metadata tool.
      const meta = await execute(base, toolRequest(tools, { name: 'get_v1_components_id_workers_name', arguments: { id, name: args.name } }))
      assert.equal(meta.status, 200, JSON.stringify(meta.body))
      assert.deepEqual(meta.body.workerId, { componentId: id, workerName: 'tool worker 1' })
      // And the component-level invoke tool.
      const direct = await execute(base, toolRequest(tools, { name: 'post_v1_components_id_invoke_and_await', arguments: { id, function: 'get' } }))
      assert.equal(direct.status, 200, JSON.stringify(direct.body))
    })
  })
})
