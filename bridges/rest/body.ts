import type { IncomingMessage } from 'node:http'
import type { Context } from 'koa'
import { ColonyError, jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../../src/index.js'

/**
 * JSON, and the two types curl and browsers send when nobody set one (`curl -d '{...}'` says form-urlencoded):
 * the body is parsed as JSON either way. Anything else (multipart, XML, ...) is refused with 415.
 */
const ACCEPTED_TYPE = /^(?:application\/(?:[\w.+-]+\+)?json|application\/x-www-form-urlencoded|text\/plain)\s*(?:;|$)/i

/**
 * Reads a JSON request body, at most `limit` bytes. A body that says it is bigger is refused before a byte is
 * read; one that turns out bigger is cut off; either way the connection is closed so the rest of it is not
 * taken for the next request.
 */
export async function readJson (ctx: Context, limit: number): Promise<unknown> {
  const type = ctx.get('content-type')
  if (!acceptsJsonBody(type)) {
    throw new ColonyError('unsupported_media_type', `request body must be application/json, not ${type.slice(0, 60)}`)
  }
  const declared = Number(ctx.get('content-length') || 0)
  if (declared > limit) {
    ctx.set('Connection', 'close')
    throw new ColonyError('body_too_large', `request body of ${declared} bytes exceeds the limit of ${limit} bytes`, { details: { limit } })
  }
  return parseJsonBody((await collect(ctx, limit)).toString('utf8'))
}

/** True for a Content-Type whose body is read as JSON (and for none at all). */
export function acceptsJsonBody (type: string): boolean {
  return type === '' || ACCEPTED_TYPE.test(type)
}

/** A request body's text as JSON: 400 `invalid_body` when empty or too deep, `invalid_json` when not JSON. */
export function parseJsonBody (text: string): unknown {
  if (text.trim() === '') throw new ColonyError('invalid_body', 'request body is empty; a JSON object is expected')
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (err) {
    throw new ColonyError('invalid_json', `request body is not valid JSON: ${(err as Error).message}`)
  }
  if (jsonNestsDeeperThan(text)) {
    throw new ColonyError('invalid_body', `request body nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`)
  }
  return body
}

/** Narrows a parsed body to a plain object, or 400 `invalid_body`. */
export function requireObject (body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ColonyError('invalid_body', 'request body must be a JSON object')
  }
  return body as Record<string, unknown>
}

/** A JSON object body that may be left out entirely (no Content-Length, no chunks): then `{}`. */
export async function readOptionalObject (ctx: Context, limit: number): Promise<Record<string, unknown>> {
  const headers = ctx.req.headers
  const declared = headers['content-length']
  if ((declared === undefined || declared === '0') && headers['transfer-encoding'] === undefined) return {}
  return requireObject(await readJson(ctx, limit))
}

/** The raw body, at most `limit` bytes (plain listeners: cheaper than async iteration on a hot path). */
export function collect (ctx: Context, limit: number): Promise<Buffer> {
  return collectRequest(ctx.req, limit, () => ctx.set('Connection', 'close'))
}

/** `collect` on the request itself; `tooLarge` runs when the body passes the limit (before the promise rejects). */
export function collectRequest (req: IncomingMessage, limit: number, tooLarge: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        tooLarge()
        reject(new ColonyError('body_too_large', `request body exceeds the limit of ${limit} bytes`, { details: { limit } }))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      resolve(chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks))
    }
    const onError = (err: Error): void => {
      cleanup()
      reject(new ColonyError('invalid_body', `the request body could not be read: ${err.message}`))
    }
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}
