import { ColonyError } from '../errors.js'
import type { AlertCode } from './alert-codes.js'
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './json-depth.js'

/** Wire state names: exactly these strings appear on MQTT and REST. */
export type WireState = 'initializing' | 'running' | 'paused' | 'stopping' | 'stopped' | 'failed' | 'restarting'
export type Severity = 'info' | 'warning' | 'error' | 'critical'
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error', 'critical']

export interface SpawnPayload { agentId: string, agentName: string, agentType: string, timestampMs: number }
export interface StatusPayload { agentId: string, state: WireState, timestampMs: number }
export interface HeartbeatPayload {
  agentId: string
  agentName: string
  state: WireState
  timestampMs: number
  [metric: string]: unknown
}
export interface AlertPayload {
  agentId: string
  severity: Severity
  message: string
  timestampMs: number
  /** Who raised it when that is not the actor itself (e.g. `monitor-agent`). */
  source?: string
  /** A stable code: one of `ALERT_CODES`, or the error table's when the alert reports an error. */
  code?: AlertCode
  [extra: string]: unknown
}
export interface ChatPayload { id: string, from: string, to: string, content: string, timestampMs: number, inReplyTo?: string }

/**
 * An outbound chat line, in its wire field order: a reply or `ctx.say` on `agents/{id}/chat`, or the REST door's
 * copy of a `POST /api/chat` line on `io/chat`.
 */
export function chatPayload (line: { id: string, from: string, to: string, content: string, inReplyTo?: string | undefined, timestampMs: number }): ChatPayload {
  return {
    id: line.id,
    from: line.from,
    to: line.to,
    content: line.content,
    ...(line.inReplyTo !== undefined && { inReplyTo: line.inReplyTo }),
    timestampMs: line.timestampMs,
  }
}

export interface HealthPayload { agentCount: number, staleAgents: string[], timestampMs: number }

export const COMMANDS = ['pause', 'resume', 'stop', 'delete'] as const
export type Command = typeof COMMANDS[number]

/** Most chat content we accept: a chat line, not a file transfer. */
export const MAX_CHAT_CONTENT = 64 * 1024

/**
 * Parses a JSON payload; throws `wire_invalid_json` (never a SyntaxError) when it is not JSON, and
 * `wire_invalid_payload` when it nests deeper than `MAX_JSON_DEPTH` (nothing may walk it).
 */
export function parseJson (payload: Buffer | string): unknown {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ColonyError('wire_invalid_json')
  }
  if (jsonNestsDeeperThan(text)) throw new ColonyError('wire_invalid_payload', `payload nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`)
  return value
}

function requireObject (value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ColonyError('wire_invalid_payload', `${what} must be a JSON object`)
  }
  return value as Record<string, unknown>
}

function optionalString (obj: Record<string, unknown>, key: string, what: string, max = 256): string | undefined {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new ColonyError('wire_invalid_payload', `${what}.${key} must be a string`)
  if (v.length > max) throw new ColonyError('wire_payload_too_large', `${what}.${key} is longer than ${max} characters`)
  return v
}

/** `io/chat` and inbound `agents/{id}/chat`: `{from?, content, timestampMs?}`. */
export function parseInboundChat (payload: Buffer): { from: string, content: string, to?: string, id?: string } {
  const obj = requireObject(parseJson(payload), 'chat message')
  if (typeof obj.content !== 'string') throw new ColonyError('wire_invalid_payload', 'chat message.content must be a string')
  if (obj.content.length > MAX_CHAT_CONTENT) {
    throw new ColonyError('wire_payload_too_large', `chat message.content is longer than ${MAX_CHAT_CONTENT} characters`)
  }
  const from = optionalString(obj, 'from', 'chat message') ?? 'user'
  const to = optionalString(obj, 'to', 'chat message')
  const id = optionalString(obj, 'id', 'chat message', 128)
  return { from, content: obj.content, ...(to !== undefined && { to }), ...(id !== undefined && { id }) }
}

/** `agents/{id}/commands`: `{command: pause|resume|stop|delete}`. */
export function parseCommand (payload: Buffer): Command {
  const obj = requireObject(parseJson(payload), 'command')
  const command = obj.command
  if (typeof command !== 'string') throw new ColonyError('wire_invalid_payload', 'command.command must be a string')
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new ColonyError('wire_unknown_command', `unknown command "${command.slice(0, 40)}"; expected one of ${COMMANDS.join(', ')}`)
  }
  return command as Command
}

/**
 * `agents/{id}/invoke`: `{id, function, params, replyTo?, idempotencyKey?}` (MQTT 3.1.1 has no response topic: the
 * request names one). A durable worker runs a call with an idempotency key at most once.
 */
export interface InvokeRequest { id: string, function: string, params: unknown[], replyTo: string | undefined, idempotencyKey: string | undefined }

export function parseInvokeRequest (payload: Buffer): InvokeRequest {
  const obj = requireObject(parseJson(payload), 'invoke request')
  const id = optionalString(obj, 'id', 'invoke request', 128)
  const fn = optionalString(obj, 'function', 'invoke request', 512)
  if (id === undefined || id === '') throw new ColonyError('wire_invalid_payload', 'invoke request.id is required (it correlates the reply)')
  if (fn === undefined || fn === '') throw new ColonyError('wire_invalid_payload', 'invoke request.function is required')
  const params = obj.params ?? []
  if (!Array.isArray(params)) throw new ColonyError('wire_invalid_payload', 'invoke request.params must be an array')
  return {
    id, function: fn, params,
    replyTo: optionalString(obj, 'replyTo', 'invoke request', 1024),
    idempotencyKey: optionalString(obj, 'idempotencyKey', 'invoke request', 128),
  }
}
