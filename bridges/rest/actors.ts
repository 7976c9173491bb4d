import { createHash } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { AuthService, Identity, SystemApi } from '../../src/index.js'
import { ColonyError } from '../../src/index.js'
import { identity } from './authn.js'
import type { Routes } from './route.js'
import { ActorBeatInfo, ActorInfo, ActorStats, Id, KindInfo } from './schemas.js'

export const name = 'Actors'

export interface ActorsDeps {
  system: SystemApi
  auth: AuthService
  /** The cached list bodies (`actorLists`), shared with the raw fast path (fast-actors.ts). */
  lists: ActorLists
}

export interface CachedList { version: number, body: Buffer, etag: string }
/** The caller's list of actors as JSON bytes and its ETag, serialized once per registry version and audience. */
export type ActorLists = (who: Identity) => CachedList

/** Callers who see the same actors share one cached body: platform admins all, others by their set of teams. */
function audience (who: Identity): string {
  return who.isAdmin ? '*' : [...who.teams].sort().join(',')
}

const ActorRef = Type.Object({ id: Id('the actor\'s id or name') })

/** One cache of list bodies per REST bridge: the route and the fast path serve the same bytes and ETags. */
export function actorLists (system: SystemApi): ActorLists {
  const cache = new Map<string, CachedList>()
  return (who) => {
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
}

/**
 * The Wactorz actor API: list, get, pause, resume, delete (chat is chat.ts), plus `POST /api/actors` to spawn a
 * spawnable kind. Each caller sees the actors of their teams (and the system's); the list body is serialized
 * once per registry version and audience, not once per request.
 */
export function register (routes: Routes, { system, auth, lists: listBody }: ActorsDeps): void {
  // The hottest read: cached bytes, an ETag for conditional requests, no per-request serialization or lookups.
  // `?include=heartbeat` adds each actor's last heartbeat (the dashboard's first ages): built per request, no ETag.
  routes.route({
    method: 'GET',
    path: '/api/actors',
    summary: 'The actors the caller may see; `include=heartbeat` adds each one\'s last heartbeat',
    query: Type.Object({ include: Type.Optional(Type.Literal('heartbeat')) }),
    responses: {
      200: { description: 'The actors (with `include=heartbeat`: and their heartbeat ages)', schema: Type.Union([Type.Array(ActorInfo), Type.Array(ActorBeatInfo)]) },
      304: { description: 'Unchanged since the ETag in If-None-Match' },
    },
    errors: [],
    handle (ctx, { query }) {
      if (query.include !== undefined) {
        ctx.set('Cache-Control', 'no-store')
        return system.listWithHeartbeats(identity(ctx))
      }
      const { body, etag } = listBody(identity(ctx))
      ctx.set('ETag', etag)
      if (ctx.req.headers['if-none-match'] === etag) {
        ctx.status = 304
        return undefined
      }
      ctx.set('Content-Type', 'application/json; charset=utf-8')
      ctx.body = body
      return undefined
    },
  })

  routes.route({
    method: 'POST',
    path: '/api/actors',
    summary: 'Spawns an actor of a spawnable kind (see GET /api/kinds) in the caller\'s active team',
    body: Type.Object({
      kind: Type.String({ maxLength: 64, description: 'a spawnable kind, see GET /api/kinds' }),
      name: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    }),
    status: 201,
    responses: { 201: { description: 'The new actor', schema: ActorInfo } },
    errors: ['actor_kind_unknown', 'actor_name_taken', 'actor_name_invalid', 'actor_limit_reached', 'forbidden', 'team_not_found'],
    async handle (ctx, { body }) {
      const who = identity(ctx)
      // Checked against the database: a token of a deleted team, or of a removed member, spawns nothing.
      return await system.spawn(body.kind, { ...(typeof body.name === 'string' && { name: body.name }), team: auth.activeTeam(who) })
    },
  })

  routes.route({
    method: 'GET',
    path: '/api/kinds',
    summary: 'The kinds a caller may spawn',
    responses: { 200: { description: 'Spawnable kinds', schema: Type.Array(KindInfo) } },
    errors: [],
    handle: () => system.kinds().filter((k) => k.spawnable),
  })

  routes.route({
    method: 'GET',
    path: '/api/actors/{id}',
    summary: 'One actor with its mailbox and counters',
    params: ActorRef,
    responses: { 200: { description: 'The actor', schema: ActorStats } },
    errors: ['actor_not_found'],
    handle (ctx, { params }) {
      const actor = system.get(params.id, identity(ctx))
      if (actor === undefined) throw new ColonyError('actor_not_found', `no actor with id or name "${params.id.slice(0, 80)}"`)
      return actor
    },
  })

  routes.route({
    method: 'POST',
    path: '/api/actors/{id}/pause',
    summary: 'Pauses an actor: its mailbox keeps filling, nothing is processed',
    params: ActorRef,
    responses: { 200: { description: 'The paused actor', schema: ActorInfo } },
    errors: ['actor_not_found', 'actor_protected', 'actor_invalid_state'],
    handle: (ctx, { params }) => system.pause(params.id, identity(ctx)),
  })

  routes.route({
    method: 'POST',
    path: '/api/actors/{id}/resume',
    summary: 'Resumes a paused actor',
    params: ActorRef,
    responses: { 200: { description: 'The running actor', schema: ActorInfo } },
    errors: ['actor_not_found', 'actor_protected', 'actor_invalid_state'],
    handle: (ctx, { params }) => system.resume(params.id, identity(ctx)),
  })

  routes.route({
    method: 'DELETE',
    path: '/api/actors/{id}',
    summary: 'Stops and removes an actor (a user spawn is forgotten for good)',
    params: ActorRef,
    responses: { 200: { description: 'The removed actor, as it was last', schema: ActorInfo } },
    errors: ['actor_not_found', 'actor_protected'],
    handle: async (ctx, { params }) => await system.remove(params.id, identity(ctx)),
  })
}
