import { WebSocketServer } from 'ws'
import { ColonyError, compileFilter, errorBody, isValidFilter, type BridgeDef, type Unsubscribe } from '../../src/index.js'
import { EAGER_FLUSH_FRAMES, StreamClient } from './client.js'
import { frameFor } from './frame.js'

const PING_INTERVAL_MS = 30_000

/**
 * The `/ws` stream: every MQTT message as `{topic, payload}`, optionally narrowed with `?topics=a/+,b/#`.
 * One bus subscription serves every client (taken while at least one is connected); each message is
 * serialized once, queued per client and flushed in batches every `ws.flushIntervalMs`.
 */
export const wsBridge: BridgeDef = {
  name: 'ws-bridge',
  async start (ctx) {
    const { path, flushIntervalMs, maxQueuedMessages, overflow } = ctx.config.ws
    const wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false })
    const clients = new Set<StreamClient>()
    const dirty = new Set<StreamClient>()
    let unsubscribe: Unsubscribe | undefined
    let flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined
    let totalDropped = 0

    const flush = (): void => {
      flushTimer = undefined
      const now = ctx.clock.now()
      for (const client of dirty) {
        if (!client.flush(now)) dirty.delete(client)
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
        let frame: string | undefined
        const make = (): string => (frame ??= frameFor(ctx.bus, m))
        for (const client of clients) {
          const before = client.dropped
          if (client.offer(m.topic, make)) {
            if (client.pending >= EAGER_FLUSH_FRAMES && !client.flush(ctx.clock.now())) dirty.delete(client)
            else dirty.add(client)
          }
          totalDropped += client.dropped - before
        }
        if (dirty.size > 0) scheduleFlush()
      })
    }

    const remove = (client: StreamClient): void => {
      clients.delete(client)
      dirty.delete(client)
      if (clients.size === 0 && unsubscribe !== undefined) {
        unsubscribe()
        unsubscribe = undefined
      }
    }

    const unmount = ctx.http.route(path, (req, socket, head) => {
      const params = new URL(req.url ?? '/', 'http://localhost').searchParams
      const filters = (params.get('topics') ?? '#').split(',').map((f) => f.trim()).filter((f) => f !== '')
      const invalid = filters.find((f) => !isValidFilter(f))
      if (invalid !== undefined || filters.length === 0 || filters.length > 64) {
        const err = new ColonyError('invalid_topic_filter', invalid === undefined
          ? 'topics must list 1 to 64 MQTT topic filters'
          : `"${invalid.slice(0, 80)}" is not a valid MQTT topic filter`)
        const body = JSON.stringify(errorBody(err))
        socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
        return
      }
      const matchers = filters.map(compileFilter)
      wss.handleUpgrade(req, socket, head, (ws) => {
        const client = new StreamClient(ws, socket, {
          maxQueued: maxQueuedMessages,
          overflow,
          matches: matchers.length === 1 ? matchers[0] as (t: string) => boolean : (t) => matchers.some((m) => m(t)),
        })
        clients.add(client)
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

    ctx.setStats(() => ({ clients: clients.size, dropped: totalDropped }))
    const offClients = ctx.metrics.register('colony_ws_clients', 'Connected /ws stream clients', 'gauge', () => clients.size)
    const offDropped = ctx.metrics.register('colony_ws_dropped_total', 'Messages dropped for slow /ws clients', 'counter', () => totalDropped)

    let stopped = false
    return async () => {
      if (stopped) return
      stopped = true
      unmount()
      offClients()
      offDropped()
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
}
