import { SEVERITIES, type Severity } from '../wire/payloads.js'
import type { Notification } from './notification.js'

/**
 * Colony's addition to a channel: which actor events it wants. `min_severity` drops alerts below it (info <
 * warning < error < critical); `agent_types` keeps only actors of those types (`orchestrator`, `capsule`, a
 * user kind's type...). Wrenn's own events pass untouched.
 */
export interface AlertFilter {
  min_severity?: Severity
  agent_types?: string[]
}

export function passes (filter: AlertFilter | null, n: Notification): boolean {
  if (filter === null || n.agent === undefined) return true
  if (filter.agent_types !== undefined && filter.agent_types.length > 0 && !filter.agent_types.includes(n.agent.type)) return false
  if (filter.min_severity !== undefined && n.alert !== undefined) {
    return SEVERITIES.indexOf(n.alert.severity) >= SEVERITIES.indexOf(filter.min_severity)
  }
  return true
}
