import type { Router } from '@koa/router'
import { chatPayload, ColonyError, deliverChat, MAX_CHAT_CONTENT, messageId, routeChat, topics, type ActorContext, type SystemApi } from '../../src/index.js'
import { optionalString, readJson, requireObject } from './body.js'
import { identity } from './authn.js'

/**
 * `POST /api/chat`: the REST door to the chat `io/chat` offers. Without `to`, the line is routed as io-agent routes
 * it (`@name rest` to that actor, anything else to main-actor); `to` names the target itself and the content goes
 * as given. The caller sees and reaches only the actors of their teams, as on MQTT.
 *
 * Every accepted line is also published on `io/chat` with its target in `to`, so what reads every chat line
 * there (qa-agent's credential check, admins' subscriptions) sees REST chat too; io-agent does not route it again.
 */
export function chatRoutes (router: Router, system: SystemApi, publisher: ActorContext, bodyLimit: number): void {
  router.post('/api/chat', async (ctx) => {
    const who = identity(ctx)
    const body = requireObject(await readJson(ctx, bodyLimit))
    const content = body.content
    if (typeof content !== 'string' || content.trim() === '') {
      throw new ColonyError('invalid_body', 'content must be a non-empty string', { details: { field: 'content' } })
    }
    if (content.length > MAX_CHAT_CONTENT) {
      throw new ColonyError('invalid_body', `content is longer than ${MAX_CHAT_CONTENT} characters`, { details: { field: 'content' } })
    }
    const to = optionalString(body, 'to', 64)
    const route = to === undefined ? routeChat(content) : { target: to, content }
    const from = optionalString(body, 'from', 64) ?? (who.kind === 'local' ? 'user' : who.email)
    const target = system.get(route.target, who)
    if (target === undefined) throw new ColonyError('actor_not_found', `no actor with id or name "${route.target.slice(0, 80)}"`)
    const id = messageId('chat')
    const timestampMs = publisher.clock.now()
    deliverChat(system, target, { id, from, content: route.content, timestampMs }, who)
    publisher.publish(topics.ioChat, chatPayload({ id, from, to: target.name, content, timestampMs }))
    ctx.status = 202
    ctx.body = { id, to: target.name, agentId: target.id, status: 'queued', replyTopic: topics.chat(target.id) }
  })
}
