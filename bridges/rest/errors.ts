import type { Context, Next } from 'koa'
import { ColonyError, errorBody, toColonyError, type Logger } from '../../src/index.js'

/** Maps any error (ours, Koa's, the router's) to `{error: {code, message}}` with the right status, once. */
export function errorHandler (log: Logger, stats: { requests: number }) {
  return async function errors (ctx: Context, next: Next): Promise<void> {
    stats.requests++
    const started = performance.now()
    try {
      await next()
      if (ctx.body === undefined || ctx.body === null) {
        if (ctx.status === 404) throw new ColonyError('route_not_found', `no route for ${ctx.method} ${ctx.path.slice(0, 200)}`)
        if (ctx.status === 405 || ctx.status === 501) {
          throw new ColonyError('method_not_allowed', `${ctx.method} is not allowed on ${ctx.path.slice(0, 200)}`, { status: ctx.status })
        }
      }
    } catch (err) {
      const e = fromKoa(err)
      ctx.status = e.status
      ctx.type = 'application/json'
      ctx.body = errorBody(e)
      logFailure(log, err, e, ctx.method, ctx.path)
    } finally {
      logOutcome(log, ctx.method, ctx.path, ctx.status, started)
    }
  }
}

/** A request that ended in a server error: logged with its cause. */
export function logFailure (log: Logger, err: unknown, e: ColonyError, method: string, path: string): void {
  if (e.status >= 500) log.error({ err, code: e.code, method, path }, 'request failed')
}

/** Every request's line: refusals (4xx) at info, the rest at debug. */
export function logOutcome (log: Logger, method: string, path: string, status: number, started: number): void {
  const ms = Math.round((performance.now() - started) * 10) / 10
  if (status >= 400 && status < 500) log.info({ method, path, status, ms }, 'request refused')
  else if (log.isLevelEnabled('debug')) log.debug({ method, path, status, ms }, 'request')
}

function fromKoa (err: unknown): ColonyError {
  if (err instanceof ColonyError) return err
  const status = (err as { status?: unknown }).status
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (status === 413) return new ColonyError('body_too_large', undefined, { cause: err })
    if (status === 415) return new ColonyError('unsupported_media_type', undefined, { cause: err })
    if (status === 405 || status === 501) return new ColonyError('method_not_allowed', undefined, { cause: err, status })
    if (status === 404) return new ColonyError('route_not_found', undefined, { cause: err })
    return new ColonyError('invalid_body', (err as Error).message, { cause: err, status })
  }
  return toColonyError(err)
}
