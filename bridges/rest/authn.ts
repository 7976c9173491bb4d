import type { Context, Next } from 'koa'
import { ColonyError, type Gate, type Identity } from '../../src/index.js'
import { isDashboardPath } from './dashboard.js'

/** Routes anyone may call: health, signup, login and the OAuth flow (the seed marks them unauthenticated), and the dashboard's files. */
const PUBLIC: ReadonlyArray<[string, RegExp]> = [
  ['GET', /^\/api\/health$/],
  ['POST', /^\/v1\/auth\/signup$/],
  ['POST', /^\/v1\/auth\/login$/],
  ['GET', /^\/v1\/auth\/oauth\/[^/]+(\/callback)?$/],
]

/**
 * Every request passes here first. A protected route checks the credentials it is given (wrong ones are 401) and
 * without any is 401 unless loopback development mode is on. A public route reads no credentials at all, so a
 * stale or wrong key a client sends everywhere (a dashboard, a health probe) cannot break health, login or the page.
 */
export function authenticate (gate: Gate) {
  return async function authn (ctx: Context, next: Next): Promise<void> {
    const isPublic = isDashboardPath(ctx.method, ctx.path) || PUBLIC.some(([method, path]) => (ctx.method === method || (method === 'GET' && ctx.method === 'HEAD')) && path.test(ctx.path))
    if (!isPublic) {
      try {
        ctx.state.identity = gate.identifyHeaders(ctx.req.headers)
      } catch (err) {
        ctx.set('WWW-Authenticate', 'Bearer realm="colony"')
        throw err
      }
    }
    await next()
  }
}

/** The caller of a protected route (set by `authenticate`). */
export function identity (ctx: Context): Identity {
  const who = ctx.state.identity as Identity | undefined
  if (who === undefined) throw new ColonyError('unauthorized')
  return who
}
