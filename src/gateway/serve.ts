import { randomUUID } from 'node:crypto'
import { ColonyError } from '../errors.js'
import type { CompiledRoute } from './compile.js'
import { evaluate, text, type RibRequest } from './rib-eval.js'
import type { GatewayInvoker } from './types.js'

/** What a deployed route answers. `body` undefined: no body. */
export interface GatewayResponse { status: number, headers: Record<string, string>, body: unknown }

export interface GatewayRequest {
  vars: Record<string, string>
  query: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

/**
 * Answers one request with a route: the worker-name and idempotency-key scripts first, then the response script,
 * whose function calls go to the invoker. The response script's value is the answer: a record of `status`, `body`
 * and `headers` (status 200 when left out), or, any other value, the body of a 200.
 */
export async function answer (route: CompiledRoute, teamId: string, req: GatewayRequest, invoker: GatewayInvoker): Promise<GatewayResponse> {
  const input: RibRequest = { path: req.vars, query: req.query, headers: req.headers, body: req.body, declaredQuery: route.declaredQuery }
  // Names made up for calls without a worker name: those workers are Golem's ephemeral ones, gone after the call.
  const ephemeral = new Set<string>()
  const ephemeralName = (): string => {
    const name = `ephemeral-${randomUUID()}`
    ephemeral.add(name)
    return name
  }
  const noCalls = { call: () => Promise.reject(new Error('unreachable: checked when the route was compiled')), ephemeralName }
  const workerName = route.workerName === undefined ? undefined : text(await evaluate(route.workerName, input, noCalls))
  const idempotencyKey = route.idempotencyKey === undefined ? undefined : text(await evaluate(route.idempotencyKey, input, noCalls))
  let routeWorker = workerName
  const value = await evaluate(route.response, input, {
    ephemeralName,
    call: async (functionName, params, worker) => {
      routeWorker ??= ephemeralName()
      const name = worker ?? routeWorker
      const out = await invoker.invoke({
        teamId,
        componentId: route.componentId,
        ...(route.componentVersion !== undefined && { componentVersion: route.componentVersion }),
        workerName: name,
        ...(ephemeral.has(name) && { ephemeral: true }),
        functionName,
        params,
        ...(idempotencyKey !== undefined && { idempotencyKey }),
      })
      return out.value
    },
  })
  return toResponse(value)
}

const RESPONSE_FIELDS = new Set(['status', 'body', 'headers'])

function isResponseRecord (v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const keys = Object.keys(v)
  return keys.length > 0 && keys.every((k) => RESPONSE_FIELDS.has(k))
}

export function toResponse (value: unknown): GatewayResponse {
  if (!isResponseRecord(value)) return { status: 200, headers: {}, body: value }
  const status = value.status ?? 200
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new ColonyError('api_binding_failed', `the response status ${JSON.stringify(status)?.slice(0, 40)} is not a whole number from 100 to 599`)
  }
  const headers: Record<string, string> = {}
  const given = value.headers ?? {}
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new ColonyError('api_binding_failed', 'the response headers are a record of names and values')
  for (const [name, v] of Object.entries(given as Record<string, unknown>)) {
    const s = text(v)
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(s)) throw new ColonyError('api_binding_failed', `the response header ${JSON.stringify(name).slice(0, 60)} is not a valid header`)
    headers[name] = s
  }
  return { status, headers, body: value.body }
}
