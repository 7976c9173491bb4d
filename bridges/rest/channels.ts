import { Type } from '@sinclair/typebox'
import { CHANNEL_EVENTS, PROVIDER_NAMES, type ChannelService } from '../../src/channels.js'
import { SEVERITIES, type Identity } from '../../src/index.js'
import type { Context } from 'koa'
import { identity } from './authn.js'
import { OneOf } from './schemas.js'
import type { Routes } from './route.js'

export const name = 'Channels'

export interface ChannelsDeps {
  channels: ChannelService
  /** The team a request acts for (a channel belongs to the caller's active team). */
  activeTeam: (who: Identity) => string
}

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'a channel id (ch-…)' }) })
const NAME = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$', description: 'unique within the team' })
const Provider = OneOf(PROVIDER_NAMES, { description: 'where the notifications go' })
const Config = Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.String({ maxLength: 2048 }), {
  maxProperties: 8,
  description: 'discord, slack, teams, googlechat: {webhook_url}; telegram: {bot_token, chat_id, api_url?}; matrix: {homeserver_url, access_token, room_id}; ' +
    'webhook: {url, secret?} (a secret is generated when left out). Every value is encrypted at rest and never returned.',
})
const Events = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  maxItems: 32,
  description: `at least one of ${CHANNEL_EVENTS.join(', ')} (an unknown one is 400 channel_event_unknown)`,
})
const Filter = Type.Object({
  min_severity: Type.Optional(OneOf(SEVERITIES, { description: 'actor.alert below this is not sent' })),
  agent_types: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32, description: 'only actors of these types (agentType)' })),
}, { additionalProperties: false, description: 'Colony\'s: which actor events (actor.alert, actor.status) the channel wants' })
const Channel = Type.Object({
  id: Type.String(),
  team_id: Type.String(),
  name: Type.String(),
  provider: Type.String(),
  events: Type.Array(Type.String()),
  alert_filter: Type.Union([Filter, Type.Null()]),
  muted: Type.Boolean(),
  muted_until: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  secret: Type.Optional(Type.String({ description: 'the webhook secret: only in the answer that set it' })),
})
const CONFIG_ERRORS = ['channel_config_invalid'] as const

/**
 * Wrenn's notification channels (`/v1/channels`): where a team's capsule, template and host events, and Colony's
 * actor alerts and states, are sent (Discord, Slack, Teams, Google Chat, Telegram, Matrix, signed webhooks).
 * Another team's channel is 404.
 */
export function register (routes: Routes, { channels, activeTeam }: ChannelsDeps): void {
  const team = (ctx: Context): string => activeTeam(identity(ctx))

  routes.route({
    method: 'POST',
    path: '/v1/channels',
    summary: 'Creates a notification channel (a webhook\'s secret is in this answer only)',
    body: Type.Object({ name: NAME, provider: Provider, config: Config, events: Events, alert_filter: Type.Optional(Filter) }, { additionalProperties: false }),
    status: 201,
    responses: { 201: { description: 'The channel', schema: Channel } },
    errors: ['team_not_found', 'channel_name_taken', 'channel_event_unknown', ...CONFIG_ERRORS],
    handle: (ctx, { body }) => channels.create(team(ctx), body),
  })

  routes.route({
    method: 'GET',
    path: '/v1/channels',
    summary: 'The team\'s notification channels (no config: secrets are never returned)',
    responses: { 200: { description: 'Channels', schema: Type.Array(Channel) } },
    errors: ['team_not_found'],
    handle: (ctx) => channels.list(team(ctx)),
  })

  routes.route({
    method: 'POST',
    path: '/v1/channels/test',
    summary: 'Sends a test notification with this provider and config, saving nothing',
    body: Type.Object({ provider: Provider, config: Config }, { additionalProperties: false }),
    responses: { 200: { description: 'The provider accepted it', schema: Type.Object({ status: Type.Literal('ok') }) } },
    errors: ['team_not_found', 'channel_delivery_failed', ...CONFIG_ERRORS],
    handle: async (ctx, { body }) => await channels.test(team(ctx), body),
  })

  routes.route({
    method: 'GET',
    path: '/v1/channels/{id}',
    summary: 'One notification channel',
    params: Id,
    responses: { 200: { description: 'The channel', schema: Channel } },
    errors: ['team_not_found', 'channel_not_found'],
    handle: (ctx, { params }) => channels.get(team(ctx), params.id),
  })

  routes.route({
    method: 'PATCH',
    path: '/v1/channels/{id}',
    summary: 'Renames a channel, or changes its events or alert filter',
    params: Id,
    body: Type.Object({ name: Type.Optional(NAME), events: Type.Optional(Events), alert_filter: Type.Optional(Type.Union([Filter, Type.Null()])) }, { additionalProperties: false }),
    responses: { 200: { description: 'The channel', schema: Channel } },
    errors: ['team_not_found', 'channel_not_found', 'channel_name_taken', 'channel_event_unknown'],
    handle: (ctx, { params, body }) => channels.update(team(ctx), params.id, body),
  })

  routes.route({
    method: 'PUT',
    path: '/v1/channels/{id}/config',
    summary: 'Replaces the channel\'s whole config (rotates its secrets; a webhook left without a secret gets a new one, in this answer only)',
    params: Id,
    body: Type.Object({ config: Config }, { additionalProperties: false }),
    responses: { 200: { description: 'The channel', schema: Channel } },
    errors: ['team_not_found', 'channel_not_found', ...CONFIG_ERRORS],
    handle: (ctx, { params, body }) => channels.rotate(team(ctx), params.id, body.config),
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/channels/{id}',
    summary: 'Deletes a channel (its pending deliveries go with it)',
    params: Id,
    status: 204,
    responses: { 204: { description: 'Deleted' } },
    errors: ['team_not_found', 'channel_not_found'],
    handle (ctx, { params }) {
      channels.remove(team(ctx), params.id)
    },
  })
}
