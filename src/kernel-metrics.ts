import type { Metrics } from './metrics.js'
import type { ActorSystem } from './actor/system.js'
import type { Broker } from './broker/broker.js'
import { SEVERITIES } from './wire/payloads.js'

/** The kernel's Prometheus metrics: actors, mailboxes, supervision, alerts, heartbeats and the broker. */
export function registerKernelMetrics (metrics: Metrics, actors: ActorSystem, broker: Broker): void {
  const c = actors.counters
  metrics.register('colony_actors', 'Actors in the registry, by lifecycle state', 'gauge',
    () => Object.entries(actors.countByState()).map(([state, n]) => [{ state }, n]))
  metrics.register('colony_messages_processed_total', 'Messages actors have processed', 'counter', () => c.messagesProcessed)
  metrics.register('colony_mailbox_depth', 'Messages waiting in all mailboxes', 'gauge', () => actors.mailboxTotals().depth)
  metrics.register('colony_mailbox_depth_max', 'Messages waiting in the fullest mailbox', 'gauge', () => actors.mailboxTotals().max)
  metrics.register('colony_mailbox_rejected_total', 'Messages and requests refused with mailbox_full: a full actor mailbox, or a component whose call queue was full', 'counter', () => c.mailboxRejected)
  metrics.register('colony_actor_restarts_total', 'Supervisor restarts', 'counter', () => c.restarts)
  metrics.register('colony_supervisor_give_ups_total', 'Actors a supervisor gave up on', 'counter', () => c.giveUps)
  metrics.register('colony_alerts_total', 'Alerts raised, by severity', 'counter',
    () => SEVERITIES.map((severity) => [{ severity }, c.alerts[severity]]))
  metrics.register('colony_heartbeats_total', 'Heartbeats published', 'counter', () => c.heartbeatsPublished)
  metrics.register('colony_heartbeats_deferred_total', 'Heartbeats postponed and coalesced because the bus was saturated', 'counter', () => c.heartbeatsDeferred)
  metrics.register('colony_heartbeats_skipped_total', 'Heartbeats an actor declined to send', 'counter', () => c.heartbeatsSkipped)
  metrics.register('colony_mqtt_clients', 'Connected MQTT clients', 'gauge', () => broker.stats().clients)
  metrics.register('colony_mqtt_messages_received_total', 'Publishes accepted from MQTT clients', 'counter', () => broker.stats().messagesIn)
  metrics.register('colony_mqtt_messages_internal_total', 'Publishes from inside the runtime', 'counter', () => broker.stats().messagesInternal)
  metrics.register('colony_mqtt_violations_total', 'Publishes the broker refused', 'counter', () => broker.stats().violations)
  metrics.register('colony_mqtt_retained_stored_total', 'Retained messages from clients written to the store', 'counter', () => broker.retainedJournal?.written ?? 0)
  metrics.register('colony_mqtt_retained_commits_total', 'Store transactions that wrote them (one per event-loop turn)', 'counter', () => broker.retainedJournal?.commits ?? 0)
  metrics.register('colony_bus_backlog', 'In-process publishes waiting for the broker', 'gauge', () => broker.bus.backlog)
  metrics.register('process_resident_memory_bytes', 'Resident memory size in bytes', 'gauge', () => process.memoryUsage.rss())
  metrics.register('process_cpu_seconds_total', 'User and system CPU time in seconds', 'counter', () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1e6
  })
  const started = Date.now() / 1000
  metrics.register('process_start_time_seconds', 'Start time of the process since the epoch, in seconds', 'gauge', () => started)
}
