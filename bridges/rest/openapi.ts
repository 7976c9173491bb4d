import { Type, type TObject, type TSchema } from '@sinclair/typebox'
import { ERROR_CODES, type ErrorCode } from '../../src/index.js'
import { sharedErrors, type AnyRoute, type Routes } from './route.js'
import type { RouteTable } from './route-table.js'

export const name = 'System'

export interface OpenApiDeps {
  table: RouteTable
  version: string
}

type Json = Record<string, unknown>

/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of every route the table holds, made from the same declarations
 * the router and the validator use. Built on the first request (every family has registered by then), then served
 * from memory.
 */
export function register (routes: Routes, { table, version }: OpenApiDeps): void {
  let document: Buffer | undefined
  routes.route({
    method: 'GET',
    path: '/openapi.json',
    public: true,
    summary: 'This document',
    responses: { 200: { description: 'The OpenAPI 3.1 document of every route', schema: Type.Object({ openapi: Type.String(), paths: Type.Object({}) }) } },
    errors: [],
    handle (ctx) {
      document ??= Buffer.from(JSON.stringify(openApiDocument(table, version)))
      ctx.type = 'application/json'
      ctx.body = document
    },
  })
}

export function openApiDocument (table: RouteTable, version: string): Json {
  const paths: Record<string, Json> = {}
  for (const { route, family } of table.all) {
    const item = paths[route.path] ??= {}
    item[route.method.toLowerCase()] = operation(route, family)
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Colony',
      version,
      description: 'The REST doors of a Colony runtime: Wactorz actors and chat, Wrenn accounts, teams and API keys, ' +
        'Golem components, wasmCloud links and configs. Errors are `{"error": {"code", "message", ...}}` with a stable code.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A JWT from /v1/auth/login, or an API key' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    tags: [...new Set(table.all.map((r) => r.family))].map((tag) => ({ name: tag })),
    paths,
  }
}

function operation (route: AnyRoute, family: string): Json {
  const parameters = [
    ...parametersOf(route.params, 'path'),
    ...parametersOf(route.query, 'query'),
  ]
  return {
    operationId: operationId(route),
    summary: route.summary,
    tags: [family],
    ...(route.public === true && { security: [] }),
    ...(parameters.length > 0 && { parameters }),
    ...(route.body !== undefined && { requestBody: requestBody(route) }),
    responses: responses(route),
  }
}

/** `GET /v1/teams/{id}/members` -> `getV1TeamsIdMembers`: stable, unique per method and path. */
function operationId (route: AnyRoute): string {
  const words = route.path.split(/[^A-Za-z0-9]+/).filter((w) => w !== '')
  return route.method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')
}

function parametersOf (schema: TObject | undefined, where: 'path' | 'query'): Json[] {
  if (schema === undefined) return []
  const required = new Set(schema.required ?? [])
  return Object.entries(schema.properties).map(([name, property]) => {
    const { description, ...rest } = plain(property)
    return { name, in: where, required: where === 'path' || required.has(name), ...(description !== undefined && { description }), schema: rest }
  })
}

function requestBody (route: AnyRoute): Json {
  const schema = plain(route.body as TSchema)
  if (route.bodyKind === 'multipart') return { required: true, content: { 'multipart/form-data': { schema } } }
  return { required: route.bodyKind !== 'optional-json', content: { 'application/json': { schema } } }
}

function responses (route: AnyRoute): Json {
  const out: Record<string, Json> = {}
  for (const [status, reply] of Object.entries(route.responses)) {
    const type = reply.type ?? 'application/json'
    out[status] = {
      description: reply.description,
      ...((reply.schema !== undefined || reply.type !== undefined) && { content: { [type]: reply.schema === undefined ? {} : { schema: plain(reply.schema) } } }),
    }
  }
  // Errors grouped by status, each status's codes listed as an enum so a client can switch on them.
  const byStatus = new Map<number, Set<ErrorCode>>()
  for (const code of [...sharedErrors(route), ...route.errors]) {
    const status = ERROR_CODES[code].status
    let codes = byStatus.get(status)
    if (codes === undefined) byStatus.set(status, codes = new Set())
    codes.add(code)
  }
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    if (out[status] !== undefined) continue
    out[status] = {
      description: [...codes].map((c) => `\`${c}\`: ${ERROR_CODES[c].message}`).join('; '),
      content: { 'application/json': { schema: errorSchema([...codes]) } },
    }
  }
  return out
}

export function errorSchema (codes: ErrorCode[]): Json {
  return {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string', enum: codes }, message: { type: 'string' } },
      },
    },
  }
}

/** A TypeBox schema as plain JSON (its symbol-keyed markers dropped). */
function plain (schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema)) as Json
}
