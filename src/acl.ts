import { canAccess, type Identity } from './auth/identity.js'
import { agentLevelOf, filters, isAgentsTopic, isLatticeTopic, isPluginsTopic, isSystemTopic, parseAgentTopic, pluginLevelOf, topics } from './wire/topics.js'

/** Where an identity may publish, which filters it may subscribe to, and which messages it may receive. */
export interface Acl {
  /** Undefined when allowed, else why not. Runtime-owned topics are refused before this is asked. */
  publish(who: Identity, topic: string): string | undefined
  subscribe(who: Identity, filter: string): boolean
  /** `payload` is read only for `system/spawn` (whose actor the announcement is about) and `system/events/` (whose team it names). */
  forward(who: Identity, topic: string, payload?: Buffer | string): boolean
  /**
   * The payload this recipient gets instead, when it must see less of a message it may receive (`system/health`:
   * only the stale actors it can see); undefined when the message goes as it is.
   */
  view(who: Identity, topic: string, payload: Buffer | string): Buffer | undefined
}

/** The `agentId` of a spawn announcement ('' when it is not one). */
function announcedId (payload: Buffer | string | undefined): string {
  if (payload === undefined) return ''
  try {
    const parsed = JSON.parse(payload.toString()) as { agentId?: unknown }
    return typeof parsed.agentId === 'string' ? parsed.agentId : ''
  } catch {
    return ''
  }
}

/**
 * The MQTT and `/ws` ACL. Platform admins (and the local identity of loopback development mode) may do anything
 * the runtime does not reserve. Everyone else:
 * - publishes `io/chat`, chat, commands and invocations to actors of their teams (and to system actors, which are
 *   protected), and Home Assistant discovery under its prefix;
 * - subscribes below `agents/`, `system/` and the discovery prefix;
 * - receives an actor's topics (and its `system/spawn` announcement) only when the actor is a system actor or
 *   belongs to one of their teams; never `system/violations` (other clients' addresses) nor `system/lattice/#`
 *   (the lattice spans every team's components and links); `system/health` lists only the stale actors they can see;
 * - may subscribe to and receive a plugin's feed (`plugins/{pluginId}/…`) only when the plugin belongs to one of their
 *   teams (a filter must name the plugin: a wildcard there would span teams).
 */
export function createAcl (
  actors: { teamOf(id: string): string | null | undefined },
  discoveryPrefix: string,
  plugins: { teamOf(id: string): string | undefined } = { teamOf: () => undefined },
): Acl {
  const pluginTeamOk = (who: Identity, id: string | undefined): boolean => {
    const team = id === undefined || id === '' || id === '+' || id === '#' ? undefined : plugins.teamOf(id)
    return team !== undefined && canAccess(who, team)
  }
  const ha = `${discoveryPrefix}/`
  return {
    publish (who, topic) {
      if (who.isAdmin || topic === topics.ioChat || topic.startsWith(ha)) return undefined
      const agent = parseAgentTopic(topic)
      if (agent !== undefined && (agent.channel === 'commands' || agent.channel === 'chat' || agent.channel === 'invoke')) {
        const team = actors.teamOf(agent.id)
        if (team === undefined) return `there is no actor ${agent.id}`
        if (canAccess(who, team)) return undefined
        return `${agent.id} belongs to a team ${who.email} is not in`
      }
      return `${who.email} may publish only on ${topics.ioChat}, ${topics.commands('{id}')}, ${topics.chat('{id}')} and ${filters.haDiscovery(discoveryPrefix)}`
    },
    subscribe (who, filter) {
      if (who.isAdmin) return true
      if (isPluginsTopic(filter)) return pluginTeamOk(who, pluginLevelOf(filter))
      return isAgentsTopic(filter) || isSystemTopic(filter) || filter.startsWith(ha)
    },
    view (who, topic, payload) {
      if (who.isAdmin || topic !== topics.systemHealth) return undefined
      let health: { staleAgents?: unknown }
      try {
        health = JSON.parse(payload.toString()) as { staleAgents?: unknown }
      } catch {
        return undefined
      }
      if (!Array.isArray(health.staleAgents) || health.staleAgents.length === 0) return undefined
      const visible = health.staleAgents.filter((id) => {
        const team = typeof id === 'string' ? actors.teamOf(id) : undefined
        return team !== undefined && canAccess(who, team)
      })
      return Buffer.from(JSON.stringify({ ...health, staleAgents: visible }))
    },
    forward (who, topic, payload) {
      if (who.isAdmin) return true
      if (topic === topics.systemViolations || isLatticeTopic(topic)) return false
      if (isPluginsTopic(topic)) return pluginTeamOk(who, pluginLevelOf(topic))
      if (topic === topics.systemSpawn) {
        const team = actors.teamOf(announcedId(payload))
        return team !== undefined && canAccess(who, team)
      }
      // A platform event (system/events/{event}) belongs to the team it names: capsule and host ids are not for others.
      if (topic.startsWith(SYSTEM_EVENTS)) {
        const team = eventTeam(payload)
        return team !== undefined && canAccess(who, team)
      }
      // Everything below agents/{id}/ (replies, logs, any depth) belongs to that actor's team.
      const id = agentLevelOf(topic)
      if (id === undefined) return true
      const team = actors.teamOf(id)
      return team !== undefined && canAccess(who, team)
    },
  }
}

const SYSTEM_EVENTS = topics.systemEvent('')

/** The `team_id` of a platform event's payload; undefined when it has none (then only admins receive it). */
function eventTeam (payload: Buffer | string | undefined): string | undefined {
  if (payload === undefined) return undefined
  try {
    const team = (JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) as { team_id?: unknown }).team_id
    return typeof team === 'string' ? team : undefined
  } catch {
    return undefined
  }
}
