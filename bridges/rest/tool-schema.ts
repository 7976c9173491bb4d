import { createHash } from 'node:crypto'
import type { TSchema } from '@sinclair/typebox'
import { ColonyError } from '../../src/index.js'
import { compileCheck, type Check } from './validate.js'
import type { AnyRoute, Method } from './route.js'

type Json = Record<string, unknown>

/** What a tool name may be (OpenAI's and Anthropic's common rule). */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/

/**
 * A route offered to LLM agents as a tool: one JSON Schema object for its path parameters, query and body together,
 * and which argument goes where when a call comes back.
 */
export interface Tool {
  name: string
  description: string
  /** `{type: "object", properties, required?, additionalProperties: false}`. */
  parameters: Json
  method: Method
  path: string
  /** Argument names by where they go. */
  params: readonly string[]
  query: readonly string[]
  body: readonly string[]
  /** The route reads a JSON body (sent as `{}` when no body argument is given, unless the body is optional). */
  hasBody: boolean
  bodyRequired: boolean
  check: Check
}

/**
 * The tool name made from a route: method and path in snake_case (`POST /v1/components/{id}/workers/{name}/invoke`
 * -> `post_v1_components_id_workers_name_invoke`). A name that would pass 64 characters keeps 55 and ends with `_`
 * and 8 hex digits of the method and path's hash, so it stays stable and distinct. The route table refuses two tools
 * of one name, so a collision stops the server from starting rather than answering for the wrong route.
 */
export function toolName (method: Method, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter((w) => w !== '').map((w) => w.toLowerCase())
  const name = [method.toLowerCase(), ...words].join('_')
  if (name.length <= 64) return name
  const hash = createHash('sha256').update(`${method} ${path}`).digest('hex').slice(0, 8)
  return `${name.slice(0, 55)}_${hash}`
}

/** The tool a route declares (its `tool` field set), or an error saying why it cannot be one. */
export function toolOf (route: AnyRoute): Tool {
  const where = `${route.method} ${route.path}`
  const options = route.tool === true || route.tool === undefined ? {} : route.tool
  const name = options.name ?? toolName(route.method, route.path)
  if (!TOOL_NAME.test(name)) throw new Error(`tool ${JSON.stringify(name)} of ${where}: a tool name is 1 to 64 of a-z A-Z 0-9 _ -`)
  if (route.bodyKind === 'multipart') throw new Error(`${where} takes a multipart body: it cannot be a tool`)
  const properties: Record<string, Json> = {}
  const required: string[] = []
  const parts = { params: [] as string[], query: [] as string[], body: [] as string[] }
  const add = (part: keyof typeof parts, schema: TSchema | undefined): void => {
    if (schema === undefined) return
    const object = plain(schema)
    if (object.type !== 'object' || typeof object.properties !== 'object' || object.properties === null) {
      throw new Error(`${where}: a tool's ${part} must be an object schema`)
    }
    const requiredHere = new Set(part === 'params' ? Object.keys(object.properties) : (object.required as string[] | undefined) ?? [])
    for (const [key, property] of Object.entries(object.properties as Record<string, Json>)) {
      if (Object.hasOwn(properties, key)) throw new Error(`${where}: argument ${key} is both a ${whereIs(parts, key)} and a ${part} field`)
      properties[key] = property
      parts[part].push(key)
      if (requiredHere.has(key)) required.push(key)
    }
  }
  add('params', route.params)
  add('query', route.query)
  add('body', route.body)
  const parameters: Json = {
    type: 'object',
    properties,
    ...(required.length > 0 && { required }),
    additionalProperties: false,
  }
  return {
    name,
    description: options.description ?? route.summary,
    parameters,
    method: route.method,
    path: route.path,
    ...parts,
    hasBody: route.body !== undefined,
    bodyRequired: route.body !== undefined && route.bodyKind !== 'optional-json',
    check: compileCheck(parameters as unknown as TSchema, 'body', 'invalid_body'),
  }
}

function whereIs (parts: Record<'params' | 'query' | 'body', string[]>, key: string): string {
  return parts.params.includes(key) ? 'params' : parts.query.includes(key) ? 'query' : 'body'
}

/** A tool call as an LLM returns it: OpenAI's `arguments` is a JSON string, Anthropic's `input` an object. */
export interface ToolCall {
  name: string
  arguments?: string | Record<string, unknown>
}

/** The HTTP request a tool call stands for. */
export interface ToolRequest {
  method: Method
  /** The path with its parameters substituted and percent-encoded. */
  path: string
  /** Query parameters; a list repeats the key. */
  query: Record<string, string | string[]>
  /** `path` plus the encoded query: what goes on the request line. */
  url: string
  /** The JSON body, when the route reads one. */
  body?: Record<string, unknown>
}

/**
 * Maps a tool call back to the request of its route, so a tool loop can run it over HTTP: the arguments are
 * checked against the tool's schema first (`invalid_body` naming the field, `invalid_json` for a string that is not
 * JSON); an unknown tool is `route_not_found`.
 */
export function toolRequest (tools: ReadonlyMap<string, Tool>, call: ToolCall): ToolRequest {
  const tool = tools.get(call.name)
  if (tool === undefined) throw new ColonyError('route_not_found', `no tool named ${JSON.stringify(call.name)}`, { details: { tool: call.name } })
  const args = argumentsOf(call.arguments)
  tool.check(args)
  const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value))
  const path = tool.path.replace(/\{(\w+)\}/g, (_, key: string) => segment(key, text(args[key])))
  const query: Record<string, string | string[]> = {}
  const search = new URLSearchParams()
  for (const key of tool.query) {
    const value = args[key]
    if (value === undefined) continue
    if (Array.isArray(value)) {
      query[key] = value.map(text)
      for (const item of query[key]) search.append(key, item)
    } else {
      query[key] = text(value)
      search.append(key, query[key])
    }
  }
  const encoded = search.toString()
  const out: ToolRequest = { method: tool.method, path, query, url: encoded === '' ? path : `${path}?${encoded}` }
  const given = tool.body.filter((key) => args[key] !== undefined)
  if (tool.bodyRequired || given.length > 0) out.body = Object.fromEntries(given.map((key) => [key, args[key]]))
  return out
}

/**
 * A path parameter as one path segment: percent-encoded, `.` and `..` too (a client or proxy would resolve them into
 * another route), never empty (that is another route as well).
 */
function segment (key: string, value: string): string {
  if (value === '') throw new ColonyError('invalid_body', `${key} must not be empty`, { details: { field: key } })
  const encoded = encodeURIComponent(value)
  return encoded === '.' || encoded === '..' ? encoded.replace(/\./g, '%2E') : encoded
}

function argumentsOf (value: ToolCall['arguments']): Record<string, unknown> {
  if (value === undefined || value === '') return {}
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value) as Record<string, unknown>
  } catch {
    throw new ColonyError('invalid_json', 'the tool call\'s arguments are not JSON')
  }
}

/** A TypeBox schema as plain JSON (its symbol-keyed markers dropped). */
function plain (schema: TSchema): Json {
  return JSON.parse(JSON.stringify(schema)) as Json
}
