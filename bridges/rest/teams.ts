import type { Router } from '@koa/router'
import type { Context } from 'koa'
import { ColonyError, type AuthService, type TeamService } from '../../src/index.js'
import { readJson, requireObject } from './body.js'
import { requireString } from './fields.js'
import { identity } from './authn.js'

/** Wrenn's users and teams API. Roles are read from the database on every call, never from the token. */
export function teamRoutes (router: Router, teams: TeamService, auth: AuthService, bodyLimit: number): void {
  const body = async (ctx: Context): Promise<Record<string, unknown>> => requireObject(await readJson(ctx, bodyLimit))

  router.get('/v1/users/search', (ctx) => {
    const email = ctx.query.email
    if (typeof email !== 'string') throw new ColonyError('invalid_body', 'the email query parameter is required', { details: { field: 'email' } })
    identity(ctx)
    ctx.body = auth.searchUsers(email)
  })

  router.get('/v1/teams', (ctx) => {
    ctx.body = teams.list(identity(ctx))
  })

  router.post('/v1/teams', async (ctx) => {
    const name = requireString(await body(ctx), 'name')
    ctx.status = 201
    ctx.body = teams.create(identity(ctx), name)
  })

  router.get('/v1/teams/:id', (ctx) => {
    ctx.body = teams.get(identity(ctx), ctx.params.id as string)
  })

  router.patch('/v1/teams/:id', async (ctx) => {
    teams.rename(identity(ctx), ctx.params.id as string, requireString(await body(ctx), 'name'))
    ctx.status = 204
  })

  router.delete('/v1/teams/:id', (ctx) => {
    teams.remove(identity(ctx), ctx.params.id as string)
    ctx.status = 204
  })

  router.get('/v1/teams/:id/members', (ctx) => {
    ctx.body = teams.members(identity(ctx), ctx.params.id as string)
  })

  router.post('/v1/teams/:id/members', async (ctx) => {
    const email = requireString(await body(ctx), 'email')
    ctx.status = 201
    ctx.body = teams.addMember(identity(ctx), ctx.params.id as string, email)
  })

  router.patch('/v1/teams/:id/members/:uid', async (ctx) => {
    const role = (await body(ctx)).role
    teams.setRole(identity(ctx), ctx.params.id as string, ctx.params.uid as string, role)
    ctx.status = 204
  })

  router.delete('/v1/teams/:id/members/:uid', (ctx) => {
    teams.removeMember(identity(ctx), ctx.params.id as string, ctx.params.uid as string)
    ctx.status = 204
  })

  router.post('/v1/teams/:id/leave', (ctx) => {
    teams.leave(identity(ctx), ctx.params.id as string)
    ctx.status = 204
  })
}
