import type { Bus } from '../broker/bus.js'
import type { Clock } from '../clock.js'
import { topics } from '../wire/topics.js'
import type { ForwardedEntry, PluginActivation } from './types.js'

/** A worker, as Golem names it. */
export interface WorkerRef { componentId: string, workerName: string }

/** What an oplog-processor plugin receives on `plugins/{pluginId}/oplog`, one message per batch. */
export interface PluginOplogPayload {
  pluginId: string
  installationId: string
  workerId: WorkerRef
  entries: ForwardedEntry[]
  timestampMs: number
}

/**
 * Delivers a worker's oplog entries to its active oplog-processor plugins over MQTT, in place of Golem's calls to
 * the plugin component's `oplog-processor` interface: whoever runs the processor subscribes to the plugin's topic.
 * Each call is one batch: one message per active OplogProcessor (QoS 1, not retained, so a persistent session
 * gets it after a reconnect), the entries in the order given. Other kinds of plugin receive nothing.
 */
export class OplogForwarder {
  constructor (private readonly bus: Pick<Bus, 'publish'>, private readonly clock: Clock) {}

  /** Returns how many messages were published. */
  forward (worker: WorkerRef, activePlugins: readonly PluginActivation[], entries: readonly ForwardedEntry[]): number {
    if (entries.length === 0) return 0
    let sent = 0
    const workerId = { componentId: worker.componentId, workerName: worker.workerName }
    const batch = entries.map((e) => ({ oplogIndex: e.oplogIndex, entry: e.entry }))
    for (const plugin of activePlugins) {
      if (plugin.kind !== 'OplogProcessor') continue
      const payload: PluginOplogPayload = { pluginId: plugin.pluginId, installationId: plugin.installationId, workerId, entries: batch, timestampMs: this.clock.now() }
      this.bus.publish(topics.pluginOplog(plugin.pluginId), payload, { qos: 1, retain: false })
      sent++
    }
    return sent
  }
}
