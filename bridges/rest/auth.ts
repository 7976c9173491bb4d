import type { Router } from '@koa/router'
import type { AuthService } from '../../src/index.js'
import { requireString } from './fields.js'
import { readJson, requireObject } from './body.js'
import { identity } from './authn.js'

/** Wrenn's accounts API: signup (logs in at once, as the seed says), login, switch-team. */
export function authRoutes (router: Router, auth: AuthService, bodyLimit: number): void {
  router.post('/v1/auth/signup', async (ctx) => {
    const body = requireObject(await readJson(ctx, bodyLimit))
    ctx.status = 201
    ctx.body = await auth.signup({
      email: requireString(body, 'email'),
      password: requireString(body, 'password'),
      name: requireString(body, 'name'),
    })
  })

  router.post('/v1/auth/login', async (ctx) => {
    const body = requireObject(await readJson(ctx, bodyLimit))
    try {
      ctx.body = await auth.login(requireString(body, 'email'), requireString(body, 'password'), ctx.ip)
    } catch (err) {
      const retry = (err as { details?: { retryAfterSeconds?: number } }).details?.retryAfterSeconds
      if (retry !== undefined) ctx.set('Retry-After', String(retry))
      throw err
    }
  })

  router.post('/v1/auth/switch-team', async (ctx) => {
    const body = requireObject(await readJson(ctx, bodyLimit))
    ctx.body = auth.switchTeam(identity(ctx), requireString(body, 'team_id'))
  })
}
