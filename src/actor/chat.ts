import type { Identity } from '../auth/identity.js'
import type { SystemApi } from './types.js'

/** A chat line as a door read it, before it is addressed to its actor. */
export interface ChatLine {
  id: string
  from: string
  content: string
  timestampMs: number
}

/**
 * Hands a chat line to an actor the same way from every door (`io/chat`, `agents/{id}/chat`, `POST /api/chat`):
 * addressed by the actor's name, carrying the sender when the door knew who it was, and delivered as that sender
 * (an actor of a team they cannot access does not exist for them). Throws as `SystemApi.deliver` does.
 */
export function deliverChat (api: SystemApi, target: { id: string, name: string }, line: ChatLine, sender?: Identity): void {
  api.deliver(target.id, {
    type: 'chat',
    id: line.id,
    from: line.from,
    to: target.name,
    content: line.content,
    timestampMs: line.timestampMs,
    ...(sender !== undefined && { sender }),
  }, sender)
}
