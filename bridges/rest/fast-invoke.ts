import type { IncomingMessage, ServerResponse } from 'node:http'
import { errorBody, toColonyError, type Gate, type Identity, type Logger } from '../../src/index.js'
import { acceptsJsonBody, collectRequest, parseJsonBody } from './body.js'
import { InvokeBody } from './components.js'
import { logFailure, logOutcome } from './errors.js'
import { compileCheck } from './validate.js'

export interface FastInvokeDeps {
  gate: Gate
  log: Logger
  stats: { requests: number }
  /** With http.trustProxy, forwarded headers are first filtered by a middleware: those requests take Koa's path. */
  trustProxy: boolean
  bodyLimit: number
  invoke: (who: Identity, componentId: string, fn: string, params: unknown) => Promise<unknown>
}

/**
 * `/v1/components/{id}/invoke-and-await?function=f`, exactly: an id and a function name with nothing to decode. Anything
 * else that reaches the route (escapes, `+`, more query) is Koa's to parse.
 */
const PLAIN_INVOKE = /^\/v1\/components\/([\w.-]+)\/invoke-and-await\?function=([\w.:/@-]+)$/

/**
 * `POST /v1/components/{id}/invoke-and-await` answered without Koa when that gives the same answer: Koa's context,
 * middleware chain and response handling cost this call ~200 µs of its ~750 (measured on the wasm bench's machine),
 * more than the component's own call. Only a request that is sure to reach the route takes this path: the plain
 * URL above, credentials that identify, a declared JSON body within the limit, no request logging wanted. Anything
 * else returns false untouched and Koa answers it. From there on it does what the route does (components.ts): the
 * same body parsing, schema check, call and answer, and any error in the route's shape, status and log line.
 */
export function fastInvoke (d: FastInvokeDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const checkBody = compileCheck(InvokeBody, 'body', 'invalid_body')
  return (req, res) => {
    if (req.method !== 'POST' || d.trustProxy || d.log.isLevelEnabled('debug')) return false
    const match = PLAIN_INVOKE.exec(req.url ?? '')
    if (match === null) return false
    const headers = req.headers
    const declared = Number(headers['content-length'])
    if (!(declared >= 0 && declared <= d.bodyLimit) || headers['transfer-encoding'] !== undefined) return false
    if (!acceptsJsonBody(headers['content-type'] ?? '')) return false
    let who: Identity
    try {
      who = d.gate.identifyHeaders(headers)
    } catch {
      return false // Koa's path refuses it, with the error body and WWW-Authenticate.
    }
    d.stats.requests++
    const started = performance.now()
    const path = req.url?.slice(0, req.url.indexOf('?')) ?? ''
    const [, componentId = '', fn = ''] = match
    collectRequest(req, d.bodyLimit, () => res.setHeader('Connection', 'close'))
      .then(async (raw) => {
        const body = parseJsonBody(raw.toString('utf8'))
        checkBody(body)
        return json(await d.invoke(who, componentId, fn, (body as { params?: unknown }).params))
      })
      .then((bytes) => { send(res, 200, bytes) }, (err: unknown) => {
        const e = toColonyError(err)
        logFailure(d.log, err, e, 'POST', path)
        send(res, e.status, json(errorBody(e)))
      })
      .finally(() => logOutcome(d.log, 'POST', path, res.statusCode, started))
      .catch((err: unknown) => d.log.error({ err }, 'fast invoke could not answer'))
    return true
  }
}

function json (value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value))
}

/** A JSON answer as Koa sends it: one writeHead, the same headers and bytes. */
function send (res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length })
  res.end(body)
}
