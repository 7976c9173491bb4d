import { WebSocketServer } from 'ws'
import type { Duplex } from 'node:stream'
import { ALERT_CODES, ColonyError, compileFilter, defineBridge, endRaw, toColonyError, type Identity, type Unsubscribe } from '../../src/index.js'
import { wsSettings } from './settings.js'
import { EAGER_FLUSH_FRAMES, StreamClient } from './client.js'
import { frameFor, textFrame } from './frame.js'
import { topicFilters } from './filters.js'
import { SlowConsumerWatch } from './slow-consumers.js'

const PING_INTERVAL_MS = 30_000

/**
 * The `/ws` stream: every MQTT message as `{topic, payload}`, optionally narrowed with `?topics=a/+,b/#`.
 * One bus subscription serves every client (taken while at least one is connected); each message is
 * serialized once, queued per client and flushed in batches every `ws.flushIntervalMs`.
 */
export const wsBridge = defineBridge({
  name: 'ws-bridge',
  settings: wsSettings,
  // Its own section and the doors it serves through; identity as two functions, so no secret comes along.
  deps: ({ config, services }) => ({
    config: { ws: config.ws },
    bus: services.bus,
    http: services.http,
    metrics: services.metrics,
    acl: services.acl,
    gate: { identifyHeaders: services.gate.identifyHeaders.bind(services.gate) },
    auth: { events: services.auth.events },
  }),
  async start (ctx) {
    const { path, flushIntervalMs, maxQueuedMessages, maxQueuedBytes, slowClientTimeoutMs, overflow } = ctx.config.ws
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: 4096,
      perMessageDeflate: false,
      // Browsers send a token as a `bearer.<token>` subprotocol next to `colony`; answer with `colony`.
      handleProtocols: (protocols) => (protocols.has('colony') ? 'colony' : [...protocols][0] ?? false),
    })
    const clients = new Set<StreamClient>()
    const dirty = new Set<StreamClient>()
    let unsubscribe: Unsubscribe | undefined
    let flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined
    let totalDropped = 0
    const slow = new SlowConsumerWatch({
      timeoutMs: slowClientTimeoutMs,
      maxQueuedBytes,
      overflow,
      log: ctx.log,
      alert: (message, extra) => ctx.actor.alert('warning', message, { code: ALERT_CODES.wsSlowConsumer, ...extra }),
    })
    // Closes clients that stayed over their budget; a quarter of the timeout keeps the cut within 25 % late.
    const sweeper = setInterval(() => { if (slow.active) slow.sweep(ctx.clock.now()) }, Math.max(10, Math.min(1000, slowClientTimeoutMs / 4)))
    sweeper.unref()

    const flush = (): void => {
      flushTimer = undefined
      const now = ctx.clock.now()
      for (const client of dirty) {
        if (!client.flush(now)) dirty.delete(client)
        if (client.overSince === undefined && slow.size > 0) slow.note(client, now)
      }
      if (dirty.size > 0) scheduleFlush()
    }
    const scheduleFlush = (): void => {
      if (flushTimer !== undefined) return
      flushTimer = flushIntervalMs === 0 ? setImmediate(flush) : setTimeout(flush, flushIntervalMs)
    }

    const subscribe = (): void => {
      if (unsubscribe !== undefined) return
      unsubscribe = ctx.bus.subscribe('#', (m) => {
        let frame: Buffer | undefined
        // One WebSocket frame (one Buffer, shared down to the sockets) for everyone who gets the message as
        // it is; a client shown less of it gets its own.
        const make = (viewed?: Buffer): Buffer => viewed === undefined
          ? (frame ??= textFrame(frameFor(ctx.bus, m)))
          : textFrame(frameFor(ctx.bus, { ...m, payload: viewed }))
        const now = ctx.clock.now()
        for (const client of clients) {
          const before = client.dropped
          const wasClosed = client.closed
          if (client.offer(m.topic, m.payload, make, now)) {
            if (client.pending >= EAGER_FLUSH_FRAMES && !client.flush(now)) dirty.delete(client)
            else dirty.add(client)
          } else if (client.closed && !wasClosed) {
            slow.closedAtOnce(now)
          }
          if (client.dropped !== before) {
            totalDropped += client.dropped - before
            slow.note(client, now)
          }
        }
        if (dirty.size > 0) scheduleFlush()
      })
    }

    const remove = (client: StreamClient): void => {
      clients.delete(client)
      dirty.delete(client)
      slow.forget(client, ctx.clock.now())
      if (clients.size === 0 && unsubscribe !== undefined) {
        unsubscribe()
        unsubscribe = undefined
      }
    }

    const unmount = ctx.http.route(path, (req, socket, head) => {
      const params = new URL(req.url ?? '/', 'http://localhost').searchParams
      let who: Identity
      let filters: string[]
      try {
        who = ctx.gate.identifyHeaders(req.headers, params)
        filters = topicFilters(req.url ?? '/')
        const refused = filters.find((f) => !ctx.acl.subscribe(who, f))
        if (refused !== undefined) throw new ColonyError('forbidden', `${who.email} may not subscribe to ${refused.slice(0, 80)}`)
      } catch (err) {
        const e = toColonyError(err)
        ctx.log.info({ code: e.code, status: e.status, reason: e.message }, 'ws upgrade refused')
        refuse(socket, e)
        return
      }
      const matchers = filters.map(compileFilter)
      const inFilters = matchers.length === 1 ? matchers[0] as (t: string) => boolean : (t: string) => matchers.some((m) => m(t))
      // Same delivery rule as MQTT: an actor's topics reach only its team's members.
      const matches = who.isAdmin ? inFilters : (t: string, payload: Buffer): boolean => inFilters(t) && ctx.acl.forward(who, t, payload)
      wss.handleUpgrade(req, socket, head, (ws) => {
        const view = who.isAdmin ? undefined : (t: string, payload: Buffer): Buffer | undefined => ctx.acl.view(who, t, payload)
        const client = new StreamClient(ws, socket, { maxQueued: maxQueuedMessages, maxQueuedBytes, overflow, matches, ...(view !== undefined && { view }) })
        client.keyId = who.keyId
        clients.add(client)
        if (who.expiresAtMs !== undefined) {
          const expiry = ctx.clock.setTimeout(() => client.close(1008, 'token expired'), Math.max(0, who.expiresAtMs - ctx.clock.now()))
          ws.once('close', () => ctx.clock.clearTimeout(expiry))
        }
        subscribe()
        let alive = true
        ws.on('pong', () => { alive = true })
        const ping = setInterval(() => {
          if (!alive) ws.terminate()
          alive = false
          ws.ping()
        }, PING_INTERVAL_MS)
        ping.unref()
        ws.on('close', () => {
          clearInterval(ping)
          client.closed = true
          remove(client)
        })
        ws.on('error', (err) => ctx.log.debug({ err: err.message }, 'ws client error'))
      })
    })

    // A revoked API key ends its streams at once.
    const onRevoked = (ids: string[]): void => {
      const revoked = new Set(ids)
      for (const client of clients) if (client.keyId !== undefined && revoked.has(client.keyId)) client.close(1008, 'credentials revoked')
    }
    ctx.auth.events.on('keysRevoked', onRevoked)

    const bufferedBytes = (): number => {
      let sum = 0
      for (const client of clients) sum += client.bufferedBytes
      return sum
    }
    ctx.setStats(() => ({ clients: clients.size, dropped: totalDropped, bufferedBytes: bufferedBytes(), slowClients: slow.size, slowClosed: slow.closedTotal }))
    const offClients = ctx.metrics.register('colony_ws_clients', 'Connected /ws stream clients', 'gauge', () => clients.size)
    const offDropped = ctx.metrics.register('colony_ws_dropped_total', 'Messages dropped for slow /ws clients', 'counter', () => totalDropped)
    const offBuffered = ctx.metrics.register('colony_ws_buffered_bytes', 'Bytes waiting for /ws clients: queued plus unsent in their sockets', 'gauge', bufferedBytes)
    const offSlow = ctx.metrics.register('colony_ws_slow_clients', '/ws clients over ws.maxQueuedBytes and losing frames', 'gauge', () => slow.size)
    const offSlowClosed = ctx.metrics.register('colony_ws_slow_closed_total', '/ws clients closed (1013) for staying over ws.maxQueuedBytes', 'counter', () => slow.closedTotal)

    let stopped = false
    return async () => {
      if (stopped) return
      stopped = true
      ctx.auth.events.off('keysRevoked', onRevoked)
      unmount()
      offClients()
      offDropped()
      offBuffered()
      offSlow()
      offSlowClosed()
      clearInterval(sweeper)
      if (flushTimer !== undefined) {
        clearTimeout(flushTimer as NodeJS.Timeout)
        clearImmediate(flushTimer as NodeJS.Immediate)
      }
      // Close frames first (1001, "going away"); whoever has not answered within a second is cut off.
      const closing = [...clients].map((client) => new Promise<void>((resolve) => {
        client.ws.once('close', () => resolve())
        client.close(1001, 'server shutting down')
      }))
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())
      await Promise.race([Promise.all(closing), deadline])
      for (const ws of wss.clients) ws.terminate()
      for (const client of [...clients]) remove(client)
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    }
  },
})

/** Answers a refused upgrade with the error's status and JSON body, before any WebSocket exists. */
function refuse (socket: Duplex, err: ColonyError): void {
  endRaw(socket, err.status, err, err.status === 401 ? 'WWW-Authenticate: Bearer realm="colony"\r\n' : '')
}
