import { Type } from '@sinclair/typebox'
import type { Routes } from './route.js'
import type { RouteTable } from './route-table.js'
import type { Tool } from './tool-schema.js'

export { toolName, toolRequest, TOOL_NAME, type Tool, type ToolCall, type ToolRequest } from './tool-schema.js'

export const name = 'Tools'

export interface ToolsDeps {
  table: RouteTable
}

export type ToolFormat = 'openai' | 'anthropic'

type Json = Record<string, unknown>

const Parameters = Type.Object({
  type: Type.Literal('object'),
  properties: Type.Record(Type.String(), Type.Unknown()),
  required: Type.Optional(Type.Array(Type.String())),
  additionalProperties: Type.Literal(false),
})
const OpenAiTool = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({ name: Type.String(), description: Type.String(), parameters: Parameters }),
})
const AnthropicTool = Type.Object({ name: Type.String(), description: Type.String(), input_schema: Parameters })

/**
 * `GET /api/v1/tools?format=openai|anthropic` (wasmrun's agent API): the routes declared with `tool` as function
 * definitions an LLM can be given as is, a bare JSON array. Made from the same declarations as the router and the
 * OpenAPI document; each format built on its first request (every family has registered by then), then served from
 * memory. `toolRequest` maps a call back to its HTTP request.
 */
export function register (routes: Routes, { table }: ToolsDeps): void {
  const built = new Map<ToolFormat, Buffer>()
  routes.route({
    method: 'GET',
    path: '/api/v1/tools',
    public: true,
    summary: 'The routes offered to LLM agents, as OpenAI (default) or Anthropic tool definitions',
    query: Type.Object({
      format: Type.Optional(Type.Union([Type.Literal('openai'), Type.Literal('anthropic')], { description: 'default openai' })),
    }),
    responses: {
      200: {
        description: 'A bare array: OpenAI `{type: "function", function: {name, description, parameters}}` or Anthropic `{name, description, input_schema}`',
        schema: Type.Array(Type.Union([OpenAiTool, AnthropicTool])),
      },
    },
    errors: [],
    handle (ctx, { query }) {
      const format = query.format ?? 'openai'
      let body = built.get(format)
      if (body === undefined) built.set(format, body = Buffer.from(JSON.stringify(toolDefinitions(table.tools.values(), format))))
      ctx.type = 'application/json'
      ctx.body = body
    },
  })
}

/** The tools in one vendor's shape (both carry the same schema). */
export function toolDefinitions (tools: Iterable<Tool>, format: ToolFormat): Json[] {
  const out: Json[] = []
  for (const { name, description, parameters } of tools) {
    out.push(format === 'anthropic'
      ? { name, description, input_schema: parameters }
      : { type: 'function', function: { name, description, parameters } })
  }
  return out
}
