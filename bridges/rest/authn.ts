import type { Context, Next } from 'koa'
import { ColonyError, type Gate, type Identity } from '../../src/index.js'
import { isDashboardPath } from './dashboard.js'

/**
 * Every request passes here first, before routing (an unknown route without credentials is a 401, not a 404).
 * Which routes are public is declared with each route (`public: true`: health, signup, login, the OAuth flow, the
 * OpenAPI document); the dashboard's files are public too. A protected route checks the credentials it is given (wrong ones are 401) and
 * without any is 401 unless loopback development mode is on. A public route reads no credentials at all, so a
 * stale or wrong key a client sends everywhere (a dashboard, a health probe) cannot break health, login or the page.
 */
export function authenticate (gate: Gate, publicRoute: (method: string, path: string) => boolean) {
  return async function authn (ctx: Context, next: Next): Promise<void> {
    if (!isDashboardPath(ctx.method, ctx.path) && !publicRoute(ctx.method, ctx.path)) {
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
