import { Type } from '@sinclair/typebox'
import type { Context } from 'koa'
import type { Identity } from '../../src/index.js'
import type { HostCaller, HostService, RemoteCapsules } from '../../src/hosts.js'
import { identity } from './authn.js'
import type { Routes } from './route.js'

export const name = 'Hosts'

export interface HostsDeps {
  hosts: HostService
  remote: RemoteCapsules
  activeTeam: (who: Identity) => string
}

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'a host id (host-…)' }) })
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()])
const Host = Type.Object({
  id: Type.String(),
  type: Type.Union([Type.Literal('regular'), Type.Literal('byoc')]),
  team_id: Nullable(Type.String()),
  provider: Nullable(Type.String()),
  availability_zone: Nullable(Type.String()),
  arch: Nullable(Type.String()),
  cpu_cores: Nullable(Type.Integer()),
  memory_mb: Nullable(Type.Integer()),
  disk_gb: Nullable(Type.Integer()),
  address: Nullable(Type.String()),
  status: Type.Union(['pending', 'online', 'offline', 'draining', 'unreachable'].map((s) => Type.Literal(s))),
  last_heartbeat_at: Nullable(Type.String({ format: 'date-time' })),
  created_by: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  lattice_host_id: Nullable(Type.String()),
  colony: Type.Boolean({ description: 'a joined Colony: capsules can be created on it with host_id' }),
})
const Created = Type.Object({ host: Host, registration_token: Type.String({ description: '64 hex characters, single use, valid 1 h; shown only here' }) })
const Creds = Type.Object({
  host: Host,
  token: Type.String({ description: 'host JWT (HS256, typ "host", 7 d) for X-Host-Token' }),
  refresh_token: Type.String({ description: '64 hex characters, 60 d, rotated on each use' }),
})
const Tag = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^\\s/]+$' })
const Free = (max: number) => Type.String({ minLength: 1, maxLength: max })
const Address = Type.String({ minLength: 1, maxLength: 512, pattern: '^(https?://)?[^\\s/?#]+/?$', description: 'where the host is reached: ip:port or an http(s) URL' })
const Count = (max: number) => Type.Integer({ minimum: 0, maximum: max })

/**
 * Wrenn's hosts (`/v1/hosts`): the operator side (create, list, get, delete, tags, a new registration token,
 * delete-preview) with the caller's credentials; the host side (register, refresh, heartbeat) is public and
 * authenticated by what it carries: a registration token, a refresh token, or the host JWT in `X-Host-Token`.
 */
export function register (routes: Routes, { hosts, remote, activeTeam }: HostsDeps): void {
  const caller = (ctx: Context): HostCaller => {
    const who = identity(ctx)
    return { userId: who.userId, teamId: activeTeam(who), isAdmin: who.isAdmin, actor: { type: who.kind === 'api_key' ? 'api_key' : 'user', id: who.userId } }
  }

  routes.route({
    method: 'POST',
    path: '/v1/hosts',
    summary: 'Creates a host (admins: regular; a team\'s owner or admins: BYOC for the team) and its one-time registration token',
    body: Type.Object({
      type: Type.Union([Type.Literal('regular'), Type.Literal('byoc')]),
      team_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'BYOC: the team (default the caller\'s active team)' })),
      provider: Type.Optional(Free(64)),
      availability_zone: Type.Optional(Free(64)),
    }, { additionalProperties: false }),
    status: 201,
    responses: { 201: { description: 'The pending host and its registration token', schema: Created } },
    errors: ['forbidden', 'team_not_found'],
    handle: (ctx, { body }) => hosts.create(caller(ctx), body),
  })

  routes.route({
    method: 'GET',
    path: '/v1/hosts',
    summary: 'Hosts: every host for platform admins, the active team\'s BYOC hosts for others',
    responses: { 200: { description: 'Hosts', schema: Type.Array(Host) } },
    errors: ['team_not_found', 'forbidden'],
    handle: (ctx) => hosts.list(caller(ctx)),
  })

  routes.route({
    method: 'GET',
    path: '/v1/hosts/{id}',
    summary: 'One host',
    params: Id,
    responses: { 200: { description: 'The host', schema: Host } },
    errors: ['team_not_found', 'forbidden', 'host_not_found'],
    handle: (ctx, { params }) => hosts.get(caller(ctx), params.id),
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/hosts/{id}',
    summary: 'Deletes a host: 409 has_active_sandboxes (with sandbox_ids) while capsules run on it, unless force=true destroys them first',
    params: Id,
    query: Type.Object({ force: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }),
    status: 204,
    responses: { 204: { description: 'Deleted' } },
    errors: ['team_not_found', 'forbidden', 'host_not_found', 'has_active_sandboxes'],
    async handle (ctx, { params, query }) {
      await hosts.remove(caller(ctx), params.id, query.force === 'true', (hostId, capsuleId) => remote.destroy(hostId, capsuleId))
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/hosts/{id}/delete-preview',
    summary: 'The capsules a forced delete would destroy; nothing changes',
    params: Id,
    responses: { 200: { description: 'The host and its capsules', schema: Type.Object({ host: Host, sandbox_ids: Type.Array(Type.String()) }) } },
    errors: ['team_not_found', 'forbidden', 'host_not_found'],
    handle: (ctx, { params }) => hosts.preview(caller(ctx), params.id),
  })

  routes.route({
    method: 'POST',
    path: '/v1/hosts/{id}/token',
    summary: 'A new registration token for a host still pending (409 host_not_pending otherwise)',
    params: Id,
    status: 201,
    responses: { 201: { description: 'The host and a new registration token', schema: Created } },
    errors: ['team_not_found', 'forbidden', 'host_not_found', 'host_not_pending'],
    handle: (ctx, { params }) => hosts.regenerate(caller(ctx), params.id),
  })

  routes.route({
    method: 'GET',
    path: '/v1/hosts/{id}/tags',
    summary: 'A host\'s tags',
    params: Id,
    responses: { 200: { description: 'Tags', schema: Type.Array(Type.String()) } },
    errors: ['team_not_found', 'forbidden', 'host_not_found'],
    handle: (ctx, { params }) => hosts.tags(caller(ctx), params.id),
  })

  routes.route({
    method: 'POST',
    path: '/v1/hosts/{id}/tags',
    summary: 'Adds a tag to a host (adding one it has changes nothing)',
    params: Id,
    body: Type.Object({ tag: Tag }, { additionalProperties: false }),
    status: 204,
    responses: { 204: { description: 'Tagged' } },
    errors: ['team_not_found', 'forbidden', 'host_not_found'],
    handle: (ctx, { params, body }) => { hosts.addTag(caller(ctx), params.id, body.tag) },
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/hosts/{id}/tags/{tag}',
    summary: 'Removes a tag from a host',
    params: Type.Object({ id: Id.properties.id, tag: Tag }),
    status: 204,
    responses: { 204: { description: 'Removed' } },
    errors: ['team_not_found', 'forbidden', 'host_not_found'],
    handle: (ctx, { params }) => { hosts.removeTag(caller(ctx), params.id, params.tag) },
  })

  routes.route({
    method: 'POST',
    path: '/v1/hosts/register',
    summary: 'A host agent (or a joining Colony) registers with its one-time token: the host goes online and gets a JWT and a refresh token',
    public: true,
    body: Type.Object({
      token: Type.String({ minLength: 1, maxLength: 128, description: 'the registration token' }),
      address: Address,
      arch: Type.Optional(Free(32)),
      cpu_cores: Type.Optional(Count(65_536)),
      memory_mb: Type.Optional(Count(1 << 30)),
      disk_gb: Type.Optional(Count(1 << 30)),
      lattice_host_id: Type.Optional(Type.String({ pattern: '^N[A-Z2-7]{55}$', description: 'Colony: its wasmCloud host id on a shared NATS lattice' })),
      api_key: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Colony: a key of the joining Colony, with which this one drives its capsules (stored sealed)' })),
    }, { additionalProperties: false }),
    status: 201,
    responses: { 201: { description: 'Credentials (shown only here)', schema: Creds } },
    errors: ['unauthorized', 'host_not_pending'],
    handle: async (_ctx, { body }) => await hosts.register(body),
  })

  routes.route({
    method: 'POST',
    path: '/v1/hosts/auth/refresh',
    summary: 'A new host JWT and refresh token for a refresh token, which is revoked; a revoked one used again revokes its whole family',
    public: true,
    body: Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
    responses: { 200: { description: 'New credentials', schema: Creds } },
    errors: ['unauthorized'],
    handle: (_ctx, { body }) => hosts.refresh(body.refresh_token),
  })

  routes.route({
    method: 'POST',
    path: '/v1/hosts/{id}/heartbeat',
    summary: 'A host\'s heartbeat, with its JWT in X-Host-Token (the id must be the token\'s: 403 otherwise); Colony\'s optional body moves its address',
    public: true,
    params: Id,
    body: Type.Object({ address: Type.Optional(Address) }, { additionalProperties: false }),
    bodyKind: 'optional-json',
    status: 204,
    responses: { 204: { description: 'Recorded' } },
    errors: ['unauthorized', 'forbidden', 'host_not_found'],
    handle: (ctx, { params, body }) => {
      const token = ctx.get('x-host-token')
      hosts.heartbeat(params.id, token === '' ? undefined : token, body.address)
    },
  })
}
