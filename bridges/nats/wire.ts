import type { Msg } from '@nats-io/transport-node'
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../../src/index.js'

/**
 * What a control handler answers. On the wire it is wasmCloud 1.x's `CtlResponse {success, message, response?}`
 * and, in the same object, the seed's `CtlOperationAck {accepted, error?}`; `inline` also spreads the response's
 * fields at the top (the seed's `host.get` and `host.{id}.inv` return the payload itself).
 */
export interface Reply {
  success: boolean
  message: string
  response?: unknown
  inline?: boolean
}

/** A request the handler refuses: bad JSON, a missing or mistyped field. Answered `{success: false, message}`. */
export class BadRequest extends Error {}

export const ok = (message = '', response?: unknown, inline = false): Reply => ({ success: true, message, ...(response !== undefined && { response }), inline })
export const fail = (message: string): Reply => ({ success: false, message })

export function encodeReply (reply: Reply): string {
  const body: Record<string, unknown> = {
    ...(reply.inline === true && typeof reply.response === 'object' && reply.response !== null && !Array.isArray(reply.response) ? reply.response : {}),
    success: reply.success,
    message: reply.message,
    accepted: reply.success,
  }
  if (reply.response !== undefined) body.response = reply.response
  if (!reply.success) body.error = reply.message
  return JSON.stringify(body)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The request body as an object; an empty body is `{}` (wash sends empty bodies for queries). */
export function bodyOf (msg: Msg): Record<string, unknown> {
  if (msg.data.length === 0) return {}
  let value: unknown
  try {
    const text = utf8.decode(msg.data)
    // Refused before parsing, as at the REST and MQTT doors: a walk over the value (labels, annotations, the
    // config values logged or echoed in events) would overflow the stack.
    if (jsonNestsDeeperThan(text)) throw new BadRequest(`the request body nests deeper than ${MAX_JSON_DEPTH} levels`)
    value = JSON.parse(text)
  } catch (err) {
    if (err instanceof BadRequest) throw err
    throw new BadRequest(`the request body is not valid JSON: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequest('the request body must be a JSON object')
  return value as Record<string, unknown>
}

const ID = /^[A-Za-z0-9_.:@/-]{1,256}$/

export function text (body: Record<string, unknown>, field: string, options: { optional?: boolean, max?: number, pattern?: RegExp } = {}): string {
  const value = body[field]
  if (value === undefined || value === null || value === '') {
    if (options.optional === true) return ''
    throw new BadRequest(`${field} is required`)
  }
  if (typeof value !== 'string') throw new BadRequest(`${field} must be a string`)
  if (value.length > (options.max ?? 4096)) throw new BadRequest(`${field} is longer than ${options.max ?? 4096} characters`)
  if (options.pattern !== undefined && !options.pattern.test(value)) throw new BadRequest(`${field} "${value.slice(0, 80)}" has characters that are not allowed`)
  return value
}

/** An id field (component, provider, link source): letters, digits and `_ . : @ / -`. */
export const id = (body: Record<string, unknown>, field: string): string => text(body, field, { max: 256, pattern: ID })

export function count (body: Record<string, unknown>): number {
  // wasmCloud 1.x reads `count`; the seed (and the TypeScript lattice client) send `max_instances`.
  const field = body.count !== undefined ? 'count' : 'max_instances'
  const value = body[field]
  if (value === undefined) throw new BadRequest('count (or max_instances) is required')
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new BadRequest(`${field} must be an integer`)
  if (value < 0) throw new BadRequest(`${field} must not be negative`)
  if (value > 1024) throw new BadRequest(`${field} may be at most 1024 on one host`)
  return value
}

export function stringMap (body: Record<string, unknown>, field: string): Record<string, string> {
  const value = body[field]
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw new BadRequest(`${field} must be an object of strings`)
  const entries = Object.entries(value as Record<string, unknown>)
  if (entries.length > 256 || entries.some(([k, v]) => typeof v !== 'string' || k.length > 256 || v.length > 4096)) {
    throw new BadRequest(`${field} must be an object of at most 256 string values`)
  }
  return value as Record<string, string>
}

export function stringList (body: Record<string, unknown>, field: string): string[] {
  const value = body[field]
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || value.length > 64 || value.some((v) => typeof v !== 'string' || v.length > 256)) {
    throw new BadRequest(`${field} must be a list of at most 64 names`)
  }
  return value as string[]
}

/** `uptime_human` as wasmCloud prints it: `1d 2h 3m 4s`, zero parts left out. */
export function humanDuration (seconds: number): string {
  const parts: string[] = []
  const units: Array<[string, number]> = [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]]
  let rest = Math.floor(seconds)
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0) parts.push(`${n}${unit}`)
  }
  return parts.length === 0 ? '0s' : parts.join(' ')
}
