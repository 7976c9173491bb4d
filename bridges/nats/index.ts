import { ALERT_CODES, defineBridge } from '../../src/index.js'
import { parseBridgeRules, parseLabels } from './topic-map.js'
import { natsSettings } from './settings.js'
import { natsDeps } from './deps.js'
import { NatsLink, redactUrl } from './connection.js'
import { serveControl } from './control/index.js'
import { EventPublisher } from './events.js'
import { forwardRules } from './forward.js'
import { LatticeHost } from './host.js'
import { loadHostKey } from './host-key.js'
import type { Lattice } from './lattice.js'
import { announceLifecycle } from './lifecycle.js'
import { catchUp, replicateEvents } from './replicate.js'
import { hostHeartbeat } from './heartbeat.js'

/**
 * The NATS bridge: this Colony becomes a host of a wasmCloud-style lattice. It answers the control interface
 * (wasmCloud 1.x's subjects and the seed's), publishes host events as CloudEvents, replicates links and configs
 * between hosts, mirrors control commands and lattice events on MQTT, and forwards MQTT <-> NATS by rules.
 * Without `nats.url` it is off.
 */
export const natsBridge = defineBridge({
  name: 'nats-bridge',
  settings: natsSettings,
  deps: natsDeps,
  async start (ctx) {
    const config = ctx.config.nats
    if (config.url === '') {
      ctx.log.info('NATS bridge off: no nats.url (set --nats-url or COLONY_NATS_URL to join a lattice)')
      ctx.setStats(() => ({ enabled: false }))
      return async () => {}
    }
    const key = loadHostKey(ctx.config.data.dir)
    const friendlyName = config.friendlyName !== '' ? config.friendlyName : `colony-${key.id.slice(-6).toLowerCase()}`
    const host = new LatticeHost(ctx, key.id, config.lattice, friendlyName, parseLabels(config.labels))
    const prefix = `${config.ctlPrefix}.v1.${config.lattice}`
    let unreachableSince: number | undefined
    let connectedOnce = false
    const pending = new Set<Promise<void>>()

    const link: NatsLink = new NatsLink(config, `colony ${friendlyName} (${key.id})`, ctx.log, {
      connected: (nc, server) => {
        if (unreachableSince !== undefined) ctx.actor.alert('info', `NATS reachable again at ${server}`, { code: ALERT_CODES.natsConnected })
        unreachableSince = undefined
        ctx.log.info({ server, hostId: key.id, lattice: config.lattice }, 'joined the lattice')
        if (!connectedOnce) {
          connectedOnce = true
          events.emit('host_started', { friendly_name: friendlyName, labels: { ...host.labels }, uptime_seconds: 0, version: host.version })
          events.joined()
        }
        events.emit('host_heartbeat', { ...host.inventory() })
        lattice.later('catch up with the lattice', async () => {
          const added = await catchUp(lattice, nc)
          if (added > 0) ctx.log.info({ links: added }, 'took the lattice\'s links')
        })
      },
      disconnected: (server) => {
        ctx.actor.alert('warning', `lost the NATS connection to ${server}; reconnecting`, { code: ALERT_CODES.natsDisconnected })
      },
      reconnected: (server) => {
        ctx.actor.alert('info', `reconnected to NATS at ${server}`, { code: ALERT_CODES.natsConnected })
        events.emit('host_heartbeat', { ...host.inventory() })
      },
      unreachable: (error, attempt, retryMs) => {
        if (unreachableSince === undefined) {
          unreachableSince = ctx.clock.now()
          ctx.actor.alert('warning', `NATS at ${redactUrl(config.url)} is unreachable (${error.message}); retrying with backoff`, { code: ALERT_CODES.natsUnreachable })
        }
        ctx.log.warn({ attempt, retryMs, error: error.message }, 'NATS unreachable')
      },
    })
    const events = new EventPublisher(link, ctx.actor, key.id, config.lattice, config.ctlPrefix, () => ctx.clock.now())
    const lattice: Lattice = {
      ctx,
      host,
      events,
      link,
      prefix,
      who: () => ctx.auth.localIdentity(),
      later (what, work) {
        const p = work().catch((err: unknown) => ctx.log.error({ err, what }, 'lattice work failed')).finally(() => pending.delete(p))
        pending.add(p)
      },
    }

    const stopLifecycle = announceLifecycle(lattice)
    const replication = replicateEvents(lattice)
    const control = serveControl(lattice)
    const forwarding = forwardRules(lattice, parseBridgeRules(config.bridge))
    const heartbeat = hostHeartbeat(ctx.clock, config.heartbeatIntervalMs, () => {
      if (link.connected) events.emit('host_heartbeat', { ...host.inventory() })
    })
    link.start()

    const unregister = [
      ctx.metrics.register('colony_nats_connected', 'Whether the NATS bridge is connected (1) or not (0)', 'gauge', () => (link.connected ? 1 : 0)),
      ctx.metrics.register('colony_nats_requests_total', 'Control interface requests this host received', 'counter', () => control.requests()),
      ctx.metrics.register('colony_nats_request_failures_total', 'Control interface requests answered with success false', 'counter', () => control.failures()),
      ctx.metrics.register('colony_nats_events_total', 'Lattice events this host published', 'counter', () => events.published),
      ctx.metrics.register('colony_nats_forwarded_total', 'Messages forwarded by nats.bridge rules', 'counter', () => [
        [{ direction: 'mqtt-to-nats' }, forwarding.stats.toNats], [{ direction: 'nats-to-mqtt' }, forwarding.stats.toMqtt]]),
    ]
    ctx.setStats(() => ({
      enabled: true,
      connected: link.connected,
      server: link.server,
      hostId: key.id,
      lattice: config.lattice,
      requests: control.requests(),
      failures: control.failures(),
      eventsPublished: events.published,
      eventsDropped: events.dropped,
      replicated: replication.applied(),
      forwardedToNats: forwarding.stats.toNats,
      forwardedToMqtt: forwarding.stats.toMqtt,
      forwardSkipped: forwarding.stats.skipped,
    }))

    let stopped = false
    return async () => {
      if (stopped) return
      stopped = true
      heartbeat.stop()
      for (const off of unregister) off()
      forwarding.stop()
      stopLifecycle()
      await Promise.allSettled([...pending])
      if (link.connected) events.emit('host_stopped', { labels: { ...host.labels } })
      await link.stop()
    }
  },
})
