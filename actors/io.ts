import { messageId, parseInboundChat, toColonyError, topics, type ActorKind, type MqttMessage } from '../src/index.js'

/** `@name rest`, `@name: rest` or `@name, rest`; the rest keeps its inner whitespace. */
const MENTION = /^@([A-Za-z0-9_-]{1,64})[,:]?(?:\s+([\s\S]*))?$/

/**
 * The gateway for `io/chat` (the browser's IO bar): `@name rest` goes to that actor, anything without a
 * mention to main-actor. Every non-empty message gets exactly one reply: the target's, or this actor's when
 * the name is unknown or the message cannot be delivered.
 */
export const ioKind: ActorKind = {
  kind: 'io',
  agentType: 'gateway',
  protected: true,
  help: 'help — this text\nPublish {"from": "you", "content": "@agent text"} on io/chat; without a mention it goes to main-actor.',
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
          ctx.alert('error', `io/chat message refused: ${e.message}`, { code: e.code, topic: m.topic, clientId: m.clientId })
          return
        }
        const text = chat.content.trim()
        if (text === '') return
        const mention = MENTION.exec(text)
        const target = mention === null ? 'main-actor' : mention[1] as string
        const content = mention === null ? text : (mention[2] ?? '')
        // The sender sees (and reaches) only the actors of their teams; others do not exist for them.
        const sender = m.identity
        const actor = ctx.system.get(target, sender)
        if (actor === undefined) {
          unknown++
          const known = ctx.system.list(sender).map((a) => `@${a.name}`).join(', ')
          ctx.say(chat.from, `I don't know @${target}. Known agents: ${known}`, chat.id)
          return
        }
        try {
          ctx.system.deliver(actor.id, {
            type: 'chat',
            id: chat.id ?? messageId('chat'),
            from: chat.from,
            to: actor.name,
            content,
            timestampMs: ctx.clock.now(),
            ...(sender !== undefined && { sender }),
          }, sender)
          routed++
        } catch (err) {
          ctx.say(chat.from, `could not deliver to @${actor.name}: ${toColonyError(err).message}`, chat.id)
        }
      },
      heartbeat: () => ({ routed, unknown, rejected }),
    }
  },
}
