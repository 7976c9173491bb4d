import { ALERT_CODES, type ActorKind, type Services } from '../src/index.js'
import type { HostEvent } from '../src/hosts.js'

export interface HostOptions {
  hostId: string
  /** The owning team of a BYOC host; null for a regular host. */
  teamId: string | null
}

/**
 * A registered Wrenn host as an actor (agentType `host`): its own heartbeats carry the host's status, when the host
 * last beat and how many beats arrived; an unreachable host raises a `warning` alert (`host_unreachable`), its
 * return an `info` one (`host_online`). The host itself is the hosts service's; this actor is how MQTT and chat see it.
 */
export const hostKind: ActorKind<HostOptions, { hosts: Services['hostDirectory'] }> = {
  kind: 'host',
  agentType: 'host',
  help: 'status — the host\'s status and last heartbeat',
  deps: ({ services }) => ({ hosts: services.hostDirectory }),
  create (ctx, options) {
    const { hosts } = ctx.deps
    let beats = 0
    const describe = (): { status: string, lastHeartbeatAt: string | null } => {
      const h = hosts.get(options.hostId)
      return h === undefined ? { status: 'deleted', lastHeartbeatAt: null } : { status: h.status, lastHeartbeatAt: h.last_heartbeat_at }
    }
    const onEvent = (e: HostEvent): void => {
      if (e.id !== options.hostId) return
      if (e.type === 'beat') beats++
      else if (e.type === 'status' && e.status === 'unreachable') {
        ctx.alert('warning', `host ${e.id} missed its heartbeats and is unreachable`, { code: ALERT_CODES.hostUnreachable, status: e.status })
      } else if (e.type === 'status' && e.status === 'online' && e.previous !== 'pending') {
        ctx.alert('info', `host ${e.id} is online again (was ${e.previous})`, { code: ALERT_CODES.hostOnline, status: e.status })
      }
    }
    return {
      start () {
        hosts.events.on('event', onEvent)
      },
      receive () {},
      chat () {
        const d = describe()
        return `host ${options.hostId} is ${d.status}; last heartbeat ${d.lastHeartbeatAt ?? 'never'}; ${beats} beats since this actor started`
      },
      heartbeat: () => ({ hostId: options.hostId, ...describe(), hostBeats: beats }),
      stop () {
        hosts.events.off('event', onEvent)
      },
    }
  },
}
