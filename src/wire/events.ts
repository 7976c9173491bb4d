/**
 * Wrenn's platform events (capsules, templates, hosts), as notification channels deliver them. The producer of an
 * event publishes it on `system/events/{event}` (see `topics.systemEvent`); the channel dispatcher subscribes to
 * `system/events/#`. The payload is Wrenn's webhook body, so a channel forwards it unchanged.
 */
export const WRENN_EVENTS = [
  'capsule.created',
  'capsule.running',
  'capsule.paused',
  'capsule.destroyed',
  'template.snapshot.created',
  'template.snapshot.deleted',
  'host.up',
  'host.down',
] as const
export type WrennEvent = typeof WRENN_EVENTS[number]

export interface EventActor {
  type: 'user' | 'api_key' | 'system'
  id?: string
  name?: string
}

export interface EventPayload {
  event: WrennEvent
  /** RFC 3339, UTC. */
  timestamp: string
  team_id: string
  actor: EventActor
  resource: { id: string, type: 'capsule' | 'template' | 'host' }
}

export function eventPayload (event: WrennEvent, teamId: string, actor: EventActor, resource: EventPayload['resource'], nowMs: number): EventPayload {
  return { event, timestamp: new Date(nowMs).toISOString(), team_id: teamId, actor, resource }
}
