import { createHash } from 'node:crypto'
import type { Router } from '@koa/router'
import { ColonyError, type AuthService, type Identity, type SystemApi } from '../../src/index.js'
import { optionalString, readJson, requireObject } from './body.js'
import { identity } from './authn.js'

interface CachedList { version: number, body: Buffer, etag: string }

/** Callers who see the same actors share one cached body: platform admins all, others by their set of teams. */
function audience (who: Identity): string {
  return who.isAdmin ? '*' : [...who.teams].sort().join(',')
}

/**
 * The Wactorz actor API: list, get, pause, resume, delete (chat is chat.ts), plus `POST /api/actors` to spawn a
 * spawnable kind. Each caller sees the actors of their teams (and the system's); the list body is serialized
 * once per registry version and audience, not once per request.
 */
export function actorRoutes (router: Router, system: SystemApi, auth: AuthService, bodyLimit: number): void {
  const cache = new Map<string, CachedList>()

  const listBody = (who: Identity): CachedList => {
    const version = system.version()
    const key = audience(who)
    let cached = cache.get(key)
    if (cached?.version !== version) {
      // Bounded: a registry change makes every entry stale anyway.
      if (cache.size > 256) cache.clear()
      const tag = createHash('sha1').update(key).digest('hex').slice(0, 8)
      cached = { version, body: Buffer.from(JSON.stringify(system.list(who))), etag: `W/"actors-${version}-${tag}"` }
      cache.set(key, cached)
    }
    return cached
  }

  // The hottest read: cached bytes, an ETag for conditional requests, no per-request serialization or lookups.
  // `?include=heartbeat` adds each actor's last heartbeat (the dashboard's first ages): built per request, no ETag.
  router.get('/api/actors', (ctx) => {
    const include = ctx.query.include
    if (include !== undefined) {
      if (include !== 'heartbeat') {
        throw new ColonyError('invalid_query', 'include may only be "heartbeat"', { details: { field: 'include' } })
      }
      ctx.set('Cache-Control', 'no-store')
      ctx.body = system.listWithHeartbeats(identity(ctx))
      return
    }
    const { body, etag } = listBody(identity(ctx))
    ctx.set('ETag', etag)
    if (ctx.req.headers['if-none-match'] === etag) {
      ctx.status = 304
      return
    }
    ctx.set('Content-Type', 'application/json; charset=utf-8')
    ctx.body = body
  })

  router.post('/api/actors', async (ctx) => {
    const who = identity(ctx)
    const body = requireObject(await readJson(ctx, bodyLimit))
    const kind = optionalString(body, 'kind', 64)
    if (kind === undefined) throw new ColonyError('invalid_body', 'kind is required (see GET /api/kinds)', { details: { field: 'kind' } })
    const name = optionalString(body, 'name', 64)
    ctx.status = 201
    // Checked against the database: a token of a deleted team, or of a removed member, spawns nothing.
    ctx.body = await system.spawn(kind, { ...(name !== undefined && { name }), team: auth.activeTeam(who) })
  })

  router.get('/api/kinds', (ctx) => {
    ctx.body = system.kinds().filter((k) => k.spawnable)
  })

  router.get('/api/actors/:id', (ctx) => {
    const actor = system.get(ctx.params.id as string, identity(ctx))
    if (actor === undefined) throw notFound(ctx.params.id as string)
    ctx.body = actor
  })

  router.post('/api/actors/:id/pause', (ctx) => {
    ctx.body = system.pause(ctx.params.id as string, identity(ctx))
  })

  router.post('/api/actors/:id/resume', (ctx) => {
    ctx.body = system.resume(ctx.params.id as string, identity(ctx))
  })

  router.delete('/api/actors/:id', async (ctx) => {
    ctx.body = await system.remove(ctx.params.id as string, identity(ctx))
  })
}

function notFound (ref: string): ColonyError {
  return new ColonyError('actor_not_found', `no actor with id or name "${ref.slice(0, 80)}"`)
}
