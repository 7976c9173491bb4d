import { Type } from '@sinclair/typebox'
import { chatPayload, ColonyError, deliverChat, MAX_CHAT_CONTENT, messageId, routeChat, topics, type ActorContext, type SystemApi } from '../../src/index.js'
import { identity } from './authn.js'
import type { Routes } from './route.js'

export const name = 'Chat'

export interface ChatDeps {
  system: SystemApi
  /** The REST bridge's own actor: it publishes the `io/chat` copy and reads the clock. */
  publisher: ActorContext
}

/**
 * `POST /api/chat`: the REST door to the chat `io/chat` offers. Without `to`, the line is routed as io-agent routes
 * it (`@name rest` to that actor, anything else to main-actor); `to` names the target itself and the content goes
 * as given. The caller sees and reaches only the actors of their teams, as on MQTT.
 *
 * Every accepted line is also published on `io/chat` with its target in `to`, so what reads every chat line
 * there (qa-agent's credential check, admins' subscriptions) sees REST chat too; io-agent does not route it again.
 */
export function register (routes: Routes, { system, publisher }: ChatDeps): void {
  routes.route({
    method: 'POST',
    path: '/api/chat',
    summary: 'Sends a chat line to an actor (`@name ...` or `to`); the reply comes on `agents/{id}/chat`',
    body: Type.Object({
      content: Type.String({ minLength: 1, maxLength: MAX_CHAT_CONTENT, pattern: '\\S', description: 'the line; `@name rest` routes it to that actor' }),
      to: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
      from: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    }),
    status: 202,
    responses: {
      202: {
        description: 'Queued in the target\'s mailbox',
        schema: Type.Object({ id: Type.String(), to: Type.String(), agentId: Type.String(), status: Type.Literal('queued'), replyTopic: Type.String() }),
      },
    },
    errors: ['actor_not_found', 'mailbox_full', 'actor_invalid_state'],
    handle (ctx, { body }) {
      const who = identity(ctx)
      const content = body.content
      const to = body.to ?? undefined
      const route = to === undefined ? routeChat(content) : { target: to, content }
      const from = body.from ?? (who.kind === 'local' ? 'user' : who.email)
      const target = system.get(route.target, who)
      if (target === undefined) throw new ColonyError('actor_not_found', `no actor with id or name "${route.target.slice(0, 80)}"`)
      const id = messageId('chat')
      const timestampMs = publisher.clock.now()
      deliverChat(system, target, { id, from, content: route.content, timestampMs }, who)
      publisher.publish(topics.ioChat, chatPayload({ id, from, to: target.name, content, timestampMs }))
      return { id, to: target.name, agentId: target.id, status: 'queued', replyTopic: topics.chat(target.id) }
    },
  })
}
