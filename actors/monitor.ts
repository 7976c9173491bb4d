import { ALERT_CODES, ms, section, topics, type ActorKind, type SettingsOf } from '../src/index.js'

/** The monitor's settings: how long a silent actor goes before a warning, then a critical alert. */
export const monitorSettings = section('monitor', {
  staleWarningMs: ms(60_000, 1),
  staleCriticalMs: ms(120_000, 1),
}, (monitor, problems) => {
  if (typeof monitor.staleWarningMs === 'number' && typeof monitor.staleCriticalMs === 'number' && monitor.staleCriticalMs <= monitor.staleWarningMs) {
    problems.push('monitor.staleCriticalMs must be greater than monitor.staleWarningMs')
  }
})
type MonitorSettings = SettingsOf<typeof monitorSettings>
declare module '../src/index.js' {
  interface ColonyConfig { monitor: MonitorSettings }
}

type Level = 'warning' | 'critical'
const WATCHED = new Set(['initializing', 'running', 'paused'])

/**
 * Watches heartbeats. On each of its own heartbeat ticks it publishes `system/health` and checks every live
 * actor: silent for `staleWarningMs` -> one `warning`, for `staleCriticalMs` -> one `critical`, beating again
 * -> one `info`. Alerts go on the silent actor's own alert topic (`source: monitor-agent`), once per episode.
 */
export const monitorKind: ActorKind<Record<string, unknown>, MonitorSettings> = {
  kind: 'monitor',
  settings: monitorSettings,
  agentType: 'monitor',
  protected: true,
  help: 'help — this text\nhealth — agent count and the actors that stopped beating',
  deps: ({ config }) => config.monitor,
  create (ctx) {
    const { staleWarningMs, staleCriticalMs } = ctx.deps
    const episodes = new Map<string, Level>()
    let lastStale: string[] = []

    const check = (now: number): void => {
      const stillLive = new Set<string>()
      for (const info of ctx.system.liveness()) {
        if (info.id === ctx.id || !WATCHED.has(info.state)) continue
        const silentMs = now - info.lastSignMs
        const level = episodes.get(info.id)
        if (level !== undefined) stillLive.add(info.id)
        if (silentMs >= staleCriticalMs && level !== 'critical') {
          episodes.set(info.id, 'critical')
          stillLive.add(info.id)
          ctx.alert('critical', `Agent ${info.name} has not sent a heartbeat in ${Math.round(silentMs / 1000)}s`,
            { subject: info.id, code: ALERT_CODES.heartbeatMissing, silentMs })
        } else if (silentMs >= staleWarningMs && level === undefined) {
          episodes.set(info.id, 'warning')
          stillLive.add(info.id)
          ctx.alert('warning', `Agent ${info.name} has not sent a heartbeat in ${Math.round(silentMs / 1000)}s`,
            { subject: info.id, code: ALERT_CODES.heartbeatMissing, silentMs })
        } else if (silentMs < staleWarningMs && level !== undefined) {
          episodes.delete(info.id)
          ctx.alert('info', `Agent ${info.name} is sending heartbeats again`, { subject: info.id, code: ALERT_CODES.heartbeatResumed })
        }
      }
      // Actors that stopped, failed or were deleted end their episode silently.
      for (const id of episodes.keys()) if (!stillLive.has(id)) episodes.delete(id)
      lastStale = [...episodes.keys()]
    }

    return {
      chat (message) {
        const word = message.content.trim()
        if (word === 'health') {
          return `${ctx.system.count()} agents; stale: ${lastStale.length === 0 ? 'none' : lastStale.join(', ')}`
        }
        return `monitor-agent understands:\n${monitorKind.help ?? ''}`
      },
      heartbeat () {
        const now = ctx.clock.now()
        check(now)
        ctx.publish(topics.systemHealth, { agentCount: ctx.system.count(), staleAgents: lastStale, timestampMs: now })
        return { staleAgents: lastStale.length }
      },
    }
  },
}
