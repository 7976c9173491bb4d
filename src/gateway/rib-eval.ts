import { ColonyError } from '../errors.js'
import type { Expr, Script } from './rib-parse.js'

/** What a script may read of the HTTP request. */
export interface RibRequest {
  path: Record<string, string>
  query: Record<string, string>
  /** Lower-case names. */
  headers: Record<string, string | string[] | undefined>
  /** The parsed JSON body; undefined when the request had none. */
  body: unknown
  /** The query variables the route declares (`request.path.q` reads them too, as older Golem scripts do). */
  declaredQuery: ReadonlySet<string>
}

/** A worker as `instance(name)` returns it: its methods are the component's functions. */
export interface WorkerHandle { readonly worker: string }

export interface RibHost {
  /** Calls a function of the route's component on `worker` (undefined: the route's own worker name). */
  call: (fn: string, args: unknown[], worker: string | undefined) => Promise<unknown>
  /** A name for `instance()` without one (an ephemeral worker). */
  ephemeralName: () => string
}

const NUMERIC = /^(?:u8|u16|u32|u64|s8|s16|s32|s64|f32|f64)$/

const isHandle = (v: unknown): v is WorkerHandle => typeof v === 'object' && v !== null && HANDLES.has(v)
const HANDLES = new WeakSet<object>()

/** Evaluates a parsed script against a request; calls go to `host`. Input problems are 400 `api_input_invalid`. */
export async function evaluate (script: Script, request: RibRequest, host: RibHost): Promise<unknown> {
  const env = new Map<string, unknown>()
  let value: unknown
  for (const item of script.items) {
    if (item.k === 'let') {
      env.set(item.name, convert(await evalExpr(item.value, env, request, host), item.type, item.name))
    } else {
      value = await evalExpr(item.value, env, request, host)
    }
  }
  return value
}

/** Applies a `let x: u64 = ...` annotation: strings from the request become numbers or booleans. */
function convert (value: unknown, type: string | undefined, name: string): unknown {
  if (type === undefined) return value
  if (NUMERIC.test(type) && typeof value === 'string') {
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n) || (!type.startsWith('f') && !Number.isInteger(n)) || (type.startsWith('u') && n < 0)) {
      throw new ColonyError('api_input_invalid', `${name}: "${value.slice(0, 64)}" is not a ${type}`, { details: { variable: name, type } })
    }
    return n
  }
  if (type === 'bool' && typeof value === 'string') {
    if (value !== 'true' && value !== 'false') throw new ColonyError('api_input_invalid', `${name}: "${value.slice(0, 64)}" is not a bool`, { details: { variable: name, type } })
    return value === 'true'
  }
  if (type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return String(value)
  return value
}

async function evalExpr (e: Expr, env: Map<string, unknown>, req: RibRequest, host: RibHost): Promise<unknown> {
  switch (e.k) {
    case 'lit': return e.value
    case 'name': return env.get(e.name)
    case 'str': {
      let out = ''
      for (const part of e.parts) out += typeof part === 'string' ? part : text(await evalExpr(part, env, req, host))
      return out
    }
    case 'request': return readRequest(e, req)
    case 'select': {
      const of = await evalExpr(e.of, env, req, host)
      return select(of, e.field, fromRequest(e.of))
    }
    case 'record': {
      const out: Record<string, unknown> = {}
      for (const [key, value] of e.fields) out[key] = await evalExpr(value, env, req, host)
      return out
    }
    case 'list': {
      const out: unknown[] = []
      for (const item of e.items) out.push(await evalExpr(item, env, req, host))
      return out
    }
    case 'call': return await host.call(e.fn, await evalArgs(e.args, env, req, host), undefined)
    case 'method': {
      const on = await evalExpr(e.on, env, req, host)
      if (!isHandle(on)) throw new ColonyError('api_binding_failed', `.${e.fn}(...) is called on something that is not a worker (use instance(name))`)
      return await host.call(e.fn, await evalArgs(e.args, env, req, host), on.worker)
    }
    case 'builtin': {
      const args = await evalArgs(e.args, env, req, host)
      if (e.fn === 'instance') {
        const handle = { worker: args.length === 0 ? host.ephemeralName() : text(args[0]) }
        HANDLES.add(handle)
        return handle
      }
      if (e.fn === 'some') return args[0]
      return { [e.fn]: args[0] }
    }
  }
}

async function evalArgs (args: Expr[], env: Map<string, unknown>, req: RibRequest, host: RibHost): Promise<unknown[]> {
  const out: unknown[] = []
  for (const a of args) out.push(await evalExpr(a, env, req, host))
  return out
}

function fromRequest (e: Expr): boolean {
  return e.k === 'request' || (e.k === 'select' && fromRequest(e.of))
}

function readRequest (e: Extract<Expr, { k: 'request' }>, req: RibRequest): unknown {
  const missing = (what: string): ColonyError => new ColonyError('api_input_invalid', `the request has no ${what}`, { details: { field: what } })
  switch (e.part) {
    case 'body':
      if (req.body === undefined) throw missing('body')
      return req.body
    case 'path': {
      const name = e.name as string
      const v = req.path[name] ?? (req.declaredQuery.has(name) ? req.query[name] : undefined)
      if (v === undefined) throw missing(`query parameter "${name}"`)
      return v
    }
    case 'query': {
      const v = req.query[e.name as string]
      if (v === undefined) throw missing(`query parameter "${e.name as string}"`)
      return v
    }
    case 'headers': {
      const v = req.headers[(e.name as string).toLowerCase()]
      if (v === undefined) throw missing(`header "${e.name as string}"`)
      return Array.isArray(v) ? v.join(', ') : v
    }
  }
}

function select (of: unknown, field: string | number, fromRequest: boolean): unknown {
  const fail = (): never => {
    const what = typeof field === 'number' ? `[${field}]` : `.${field}`
    if (fromRequest) throw new ColonyError('api_input_invalid', `the request body has no ${what}`, { details: { field: String(field) } })
    throw new ColonyError('api_binding_failed', `the value has no ${what}`)
  }
  if (typeof field === 'number') {
    if (!Array.isArray(of) || field >= of.length) return fail()
    return of[field]
  }
  if (typeof of !== 'object' || of === null || Array.isArray(of) || !Object.hasOwn(of, field)) return fail()
  return (of as Record<string, unknown>)[field]
}

/** How a value reads inside a string: strings as they are, the rest as JSON. */
export function text (v: unknown): string {
  if (typeof v === 'string') return v
  if (isHandle(v)) return v.worker
  return JSON.stringify(v) ?? ''
}

/** Whether a script calls a worker function anywhere (worker-name and idempotency-key scripts may not). */
export function callsFunction (script: Script): boolean {
  const walk = (e: Expr): boolean => {
    switch (e.k) {
      case 'call': case 'method': return true
      case 'str': return e.parts.some((p) => typeof p !== 'string' && walk(p))
      case 'select': return walk(e.of)
      case 'record': return e.fields.some(([, v]) => walk(v))
      case 'list': return e.items.some(walk)
      case 'builtin': return e.args.some(walk)
      default: return false
    }
  }
  return script.items.some((i) => walk(i.value))
}

/** Every request variable a script reads (`request.path.x` -> `path.x`), to check them against the route's path. */
export function requestReads (script: Script): Array<{ part: string, name: string | undefined, at: number }> {
  const out: Array<{ part: string, name: string | undefined, at: number }> = []
  const walk = (e: Expr): void => {
    switch (e.k) {
      case 'request': out.push({ part: e.part, name: e.name, at: e.at }); break
      case 'str': for (const p of e.parts) if (typeof p !== 'string') walk(p); break
      case 'select': walk(e.of); break
      case 'record': for (const [, v] of e.fields) walk(v); break
      case 'list': e.items.forEach(walk); break
      case 'call': case 'builtin': e.args.forEach(walk); break
      case 'method': walk(e.on); e.args.forEach(walk); break
      default:
    }
  }
  for (const i of script.items) walk(i.value)
  return out
}
