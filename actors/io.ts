import { deliverChat, messageId, parseInboundChat, routeChat, toColonyError, topics, type ActorKind, type MqttMessage } from '../src/index.js'

/**
 * The gateway for `io/chat` (the browser's IO bar): `@name rest` goes to that actor, anything without a
 * mention to main-actor (see `routeChat`, which `POST /api/chat` shares). Every non-empty message gets exactly one
 * reply: the target's, or this actor's when the name is unknown or the message cannot be delivered; each reply
 * names the message it answers (`inReplyTo`: the request's id, or the one given to it here).
 */
export const ioKind: ActorKind = {
  kind: 'io',
  agentType: 'gateway',
  protected: true,
  help: `help — this text\nPublish {"from": "you", "content": "@agent text"} on ${topics.ioChat}; without a mention it goes to main-actor.`,
  create (ctx) {
    let routed = 0
    let unknown = 0
    let rejected = 0
    return {
      start () {
        ctx.subscribe(topics.ioChat)
      },
      receive (message) {
        if (message.type !== 'mqtt') return
        const m = message as MqttMessage
        let chat
        try {
          chat = parseInboundChat(m.payload)
        } catch (err) {
          rejected++
          const e = toColonyError(err)
          ctx.alert('error', `${topics.ioChat} message refused: ${e.message}`, { code: e.code, topic: m.topic, clientId: m.clientId })
          return
        }
        // A line the runtime published itself with its target already named was delivered by the door that
        // published it (the REST bridge's copy of `POST /api/chat`, there for qa-agent and admins to see).
        if (m.clientId === undefined && chat.to !== undefined) return
        if (chat.content.trim() === '') return
        const { target, content } = routeChat(chat.content)
        const id = chat.id ?? messageId('chat')
        // The sender sees (and reaches) only the actors of their teams; others do not exist for them.
        const sender = m.identity
        const actor = ctx.system.get(target, sender)
        if (actor === undefined) {
          unknown++
          const known = ctx.system.list(sender).map((a) => `@${a.name}`).join(', ')
          ctx.say(chat.from, `I don't know @${target}. Known agents: ${known}`, id)
          return
        }
        try {
          deliverChat(ctx.system, actor, { id, from: chat.from, content, timestampMs: ctx.clock.now() }, sender)
          routed++
        } catch (err) {
          ctx.say(chat.from, `could not deliver to @${actor.name}: ${toColonyError(err).message}`, id)
        }
      },
      heartbeat: () => ({ routed, unknown, rejected }),
    }
  },
}
