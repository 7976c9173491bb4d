import { Type } from '@sinclair/typebox'
import type { AuthService, SystemApi } from '../../src/index.js'
import { isRunningProvider, startProvider, stopProvider, type ProviderMemory } from '../../src/components.js'
import { identity } from './authn.js'
import type { Routes } from './route.js'
import { ActorInfo, Success } from './schemas.js'

export const name = 'Providers'

export interface ProvidersDeps {
  system: SystemApi
  auth: AuthService
  providers: ProviderMemory
}

const Provider = Type.Object({
  provider_id: Type.String(),
  provider_ref: Type.String(),
  annotations: Type.Record(Type.String(), Type.String()),
  team: Type.Union([Type.String(), Type.Null()]),
  state: Type.String(),
  protected: Type.Boolean(),
})

/**
 * Capability providers on this host over REST, the same start and stop the NATS control interface's
 * `provider.start` / `provider.stop` drive (field names as on that wire): a started provider belongs to the caller's
 * active team, links can target it, and it is started again after a restart until it is stopped.
 */
export function register (routes: Routes, { system, auth, providers }: ProvidersDeps): void {
  routes.route({
    method: 'GET',
    path: '/v1/providers',
    summary: 'The providers running on this host that the caller may see (the built-in ones included)',
    responses: { 200: { description: 'Providers', schema: Type.Array(Provider) } },
    errors: [],
    handle (ctx) {
      const who = identity(ctx)
      return system.list(who).filter((a) => isRunningProvider(system, a.id, who)).map((a) => {
        const description = providers.describe(a.id)
        return {
          provider_id: a.id,
          provider_ref: description?.ref ?? `builtin:${a.kind.replace(/^provider:/, '')}`,
          annotations: description?.annotations ?? {},
          team: a.team,
          state: a.state,
          protected: a.protected,
        }
      })
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/providers',
    summary: 'Starts a provider for the caller\'s active team; it runs (and is restored after a restart) until stopped',
    body: Type.Object({
      provider_id: Type.String({ maxLength: 64, description: 'the provider actor\'s id and name, which links target: 1 to 64 of A-Z a-z 0-9 _ -' }),
      provider_ref: Type.String({ maxLength: 256, description: 'builtin:keyvalue, builtin:messaging or builtin:logging' }),
      annotations: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }), { maxProperties: 64 })),
    }),
    status: 201,
    responses: {
      201: {
        description: 'The running provider',
        schema: Type.Object({ provider_id: Type.String(), provider_ref: Type.String(), annotations: Type.Record(Type.String(), Type.String()), actor: ActorInfo }),
      },
    },
    errors: ['provider_running', 'actor_name_taken', 'forbidden', 'team_not_found', 'actor_limit_reached'],
    async handle (ctx, { body }) {
      const who = identity(ctx)
      const annotations = body.annotations ?? {}
      const actor = await startProvider(system, providers,
        { id: body.provider_id, ref: body.provider_ref, annotations, team: auth.activeTeam(who), origin: 'rest' }, { as: who })
      return { provider_id: actor.id, provider_ref: body.provider_ref, annotations, actor }
    },
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/providers/{id}',
    summary: 'Stops a started provider; it is not started again',
    params: Type.Object({ id: Type.String() }),
    responses: { 200: { description: 'Stopped', schema: Success } },
    errors: ['provider_not_found', 'actor_protected', 'actor_not_found', 'forbidden'],
    async handle (ctx, { params }) {
      await stopProvider(system, providers, params.id, { as: identity(ctx) })
      return { success: true }
    },
  })
}
