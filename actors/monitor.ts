import { topics, type ActorKind } from '../src/index.js'

type Level = 'warning' | 'critical'
const WATCHED = new Set(['initializing', 'running', 'paused'])

/**
 * Watches heartbeats. On each of its own heartbeat ticks it publishes `system/health` and checks every live
 * actor: silent for `staleWarningMs` -> one `warning`, for `staleCriticalMs` -> one `critical`, beating again
 * -> one `info`. Alerts go on the silent actor's own alert topic (`source: monitor-agent`), once per episode.
 */
export const monitorKind: ActorKind = {
  kind: 'monitor',
  agentType: 'monitor',
  protected: true,
  help: 'help — this text\nhealth — agent count and the actors that stopped beating',
  create (ctx) {
    const { staleWarningMs, staleCriticalMs } = ctx.config.monitor
    const episodes = new Map<string, Level>()
    let lastStale: string[] = []

    const check = (now: number): void => {
      const seen = new Set<string>()
      for (const info of ctx.system.list()) {
        if (info.id === ctx.id || !WATCHED.has(info.state)) continue
        const stats = ctx.system.get(info.id)
        if (stats === undefined) continue
        seen.add(info.id)
        const since = stats.lastHeartbeatMs ?? stats.startedAtMs ?? stats.createdAtMs
        const silentMs = now - since
        const level = episodes.get(info.id)
        const silentFor = `${Math.round(silentMs / 1000)}s`
        if (silentMs >= staleCriticalMs && level !== 'critical') {
          episodes.set(info.id, 'critical')
          ctx.alert('critical', `Agent ${info.name} has not sent a heartbeat in ${silentFor}`,
            { subject: info.id, code: 'heartbeat_missing', silentMs })
        } else if (silentMs >= staleWarningMs && level === undefined) {
          episodes.set(info.id, 'warning')
          ctx.alert('warning', `Agent ${info.name} has not sent a heartbeat in ${silentFor}`,
            { subject: info.id, code: 'heartbeat_missing', silentMs })
        } else if (silentMs < staleWarningMs && level !== undefined) {
          episodes.delete(info.id)
          ctx.alert('info', `Agent ${info.name} is sending heartbeats again`, { subject: info.id, code: 'heartbeat_resumed' })
        }
      }
      // Actors that stopped, failed or were deleted end their episode silently.
      for (const id of episodes.keys()) if (!seen.has(id)) episodes.delete(id)
      lastStale = [...episodes.keys()]
    }

    return {
      chat (message) {
        const word = message.content.trim()
        if (word === 'health') {
          return `${ctx.system.list().length} agents; stale: ${lastStale.length === 0 ? 'none' : lastStale.join(', ')}`
        }
        return `monitor-agent understands:\n${monitorKind.help ?? ''}`
      },
      heartbeat () {
        const now = ctx.clock.now()
        check(now)
        ctx.publish(topics.systemHealth, { agentCount: ctx.system.list().length, staleAgents: lastStale, timestampMs: now })
        return { staleAgents: lastStale.length }
      },
    }
  },
}
