/**
 * What a channel delivers: Wrenn's event payload (`wire/events.ts`), unchanged, or one of Colony's own actor
 * events in the same envelope. A webhook gets it as its JSON body; chat providers get `text(n)`.
 */
import { WRENN_EVENTS, type EventActor } from '../wire/events.js'
import type { Severity, WireState } from '../wire/payloads.js'

/** Colony's additions to Wrenn's events: an actor's alert (`agents/{id}/alert`) and its state (`agents/{id}/status`). */
export const COLONY_EVENTS = ['actor.alert', 'actor.status'] as const
export const CHANNEL_EVENTS = [...WRENN_EVENTS, ...COLONY_EVENTS] as const
export type ChannelEvent = typeof CHANNEL_EVENTS[number]
/** `POST /v1/channels/test` sends this one; no channel subscribes to it. */
export const TEST_EVENT = 'channel.test'

export interface Notification {
  event: ChannelEvent | typeof TEST_EVENT
  /** RFC 3339, UTC. */
  timestamp: string
  team_id: string
  actor: EventActor
  resource: { id: string, type: string }
  /** actor.* events: the actor's name and type (agentType). */
  agent?: { name: string, type: string }
  /** actor.alert */
  alert?: { severity: Severity, message: string, code?: string }
  /** actor.status */
  state?: WireState
}

const TEXT_LIMIT = 1800

/** One human-readable line or two, as a chat message (Discord cuts content at 2 000 characters). */
export function text (n: Notification): string {
  const who = n.actor.name !== undefined ? ` by ${n.actor.name}` : n.actor.type === 'system' ? '' : ` by ${n.actor.type}`
  let line: string
  switch (n.event) {
    case 'capsule.created': line = `Capsule ${n.resource.id} was created${who}`; break
    case 'capsule.running': line = `Capsule ${n.resource.id} is running again${who}`; break
    case 'capsule.paused': line = `Capsule ${n.resource.id} was paused${who}`; break
    case 'capsule.destroyed': line = `Capsule ${n.resource.id} was destroyed${who}`; break
    case 'template.snapshot.created': line = `Snapshot template ${n.resource.id} was created${who}`; break
    case 'template.snapshot.deleted': line = `Snapshot template ${n.resource.id} was deleted${who}`; break
    case 'host.up': line = `Host ${n.resource.id} is up`; break
    case 'host.down': line = `Host ${n.resource.id} is down (unreachable)`; break
    case 'actor.alert': line = `[${n.alert?.severity ?? 'info'}] ${n.agent?.name ?? n.resource.id} (${n.agent?.type ?? 'actor'}): ${n.alert?.message ?? ''}${n.alert?.code !== undefined ? ` (${n.alert.code})` : ''}`; break
    case 'actor.status': line = `${n.agent?.name ?? n.resource.id} (${n.agent?.type ?? 'actor'}) is ${n.state ?? 'unknown'}`; break
    default: line = 'Colony test notification: this channel works'
  }
  const full = `${line}\n${n.event} · team ${n.team_id} · ${n.timestamp}`
  return full.length > TEXT_LIMIT ? `${full.slice(0, TEXT_LIMIT - 1)}…` : full
}

/** A short title (embeds, cards). */
export function title (n: Notification): string {
  return n.event === 'actor.alert' ? `Colony alert: ${n.alert?.severity ?? 'info'}` : `Colony: ${n.event}`
}

/** The severity a notification carries for colours: alerts their own, host.down a warning, the rest info. */
export function severityOf (n: Notification): Severity {
  if (n.alert !== undefined) return n.alert.severity
  if (n.event === 'host.down' || n.state === 'failed') return 'warning'
  return 'info'
}
