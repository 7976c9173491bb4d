import { readFileSync } from 'node:fs'
import {
  connect, credsAuthenticator, headers as natsHeaders, nkeyAuthenticator, type ConnectionOptions, type Msg, type NatsConnection, type Subscription,
} from '@nats-io/transport-node'
import type { ColonyConfig, Logger } from '../../src/index.js'

export type MsgHandler = (msg: Msg) => void

/** The longest a graceful drain may take at shutdown. */
const DRAIN_MS = 2000

interface SubSpec { subject: string, queue?: string, handler: MsgHandler }

export interface LinkEvents {
  /** Connected (the first time, or again after NATS was unreachable at start). */
  connected(nc: NatsConnection, server: string): void
  /** The connection is down; the client is trying again. */
  disconnected(server: string): void
  /** Back after a disconnect; subscriptions were restored by the client. */
  reconnected(server: string): void
  /** Could not connect (at start), retrying in `retryMs`. */
  unreachable(error: Error, attempt: number, retryMs: number): void
}

/**
 * The NATS connection of the bridge. Connecting never blocks Colony's start: while NATS is unreachable it tries again
 * with exponential backoff (250 ms doubling up to `nats.reconnectMaxMs`, with jitter), and once connected the client
 * reconnects by itself, forever, keeping every subscription. Subscriptions asked for before the connection exists are
 * made as soon as it does.
 */
export class NatsLink {
  nc: NatsConnection | undefined
  private readonly subs: SubSpec[] = []
  private readonly live: Subscription[] = []
  private stopped = false
  private retryTimer: NodeJS.Timeout | undefined
  private wakeRetry: (() => void) | undefined
  private reconnectAttempts = 0
  private up = false
  server = ''

  constructor (
    private readonly config: Readonly<ColonyConfig['nats']>,
    private readonly name: string,
    private readonly log: Logger,
    private readonly on: LinkEvents,
  ) {}

  /** Connected now: not while the client is reconnecting after a disconnect. */
  get connected (): boolean {
    return this.nc !== undefined && !this.nc.isClosed() && this.up
  }

  /** Starts connecting in the background. */
  start (): void {
    void this.loop()
  }

  /** Subscribes now if connected, else when the connection is made (and again after a fresh connect). */
  subscribe (subject: string, handler: MsgHandler, queue?: string): void {
    const spec: SubSpec = { subject, handler, ...(queue !== undefined && { queue }) }
    this.subs.push(spec)
    if (this.nc !== undefined) this.apply(this.nc, spec)
  }

  publish (subject: string, payload: string | Uint8Array, headers?: Record<string, string>): boolean {
    const nc = this.nc
    if (nc === undefined || nc.isClosed()) return false
    if (headers === undefined) {
      nc.publish(subject, payload)
      return true
    }
    const h = natsHeaders()
    for (const [k, v] of Object.entries(headers)) h.set(k, v)
    nc.publish(subject, payload, { headers: h })
    return true
  }

  /**
   * Drains (in-flight replies and queued publishes go out) and closes; while NATS is down there is nothing to drain
   * to, so it just closes, and a drain that takes longer than `DRAIN_MS` is cut short. Safe to call twice.
   */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.wakeRetry?.()
    const nc = this.nc
    if (nc === undefined || nc.isClosed()) return
    if (!this.up) {
      await nc.close()
      return
    }
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), DRAIN_MS) })
    const outcome = await Promise.race([nc.drain().then(() => 'drained' as const, () => 'failed' as const), late])
    clearTimeout(timer)
    if (outcome !== 'drained' && !nc.isClosed()) await nc.close()
  }

  private async loop (): Promise<void> {
    let attempt = 0
    while (!this.stopped) {
      try {
        const nc = await connect(this.options())
        if (this.stopped) {
          await nc.close()
          return
        }
        this.nc = nc
        this.up = true
        this.server = nc.getServer()
        for (const spec of this.subs) this.apply(nc, spec)
        void this.watch(nc)
        this.on.connected(nc, this.server)
        // Closed by us, or by a fatal error (e.g. an auth failure after the server changed its users): connect anew.
        const err = await nc.closed()
        this.nc = undefined
        this.up = false
        this.live.length = 0
        if (this.stopped) return
        this.log.warn({ err }, 'NATS connection closed; connecting again')
        attempt = 0
      } catch (err) {
        attempt++
        const retryMs = backoff(attempt, this.config.reconnectMaxMs)
        this.on.unreachable(err as Error, attempt, retryMs)
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve
          this.retryTimer = setTimeout(resolve, retryMs)
        })
      }
    }
  }

  private apply (nc: NatsConnection, spec: SubSpec): void {
    const sub = nc.subscribe(spec.subject, {
      ...(spec.queue !== undefined && { queue: spec.queue }),
      callback: (err, msg) => {
        if (err !== null) {
          this.log.warn({ err, subject: spec.subject }, 'NATS subscription error')
          return
        }
        try {
          spec.handler(msg)
        } catch (e) {
          this.log.error({ err: e, subject: msg.subject }, 'NATS handler threw; message dropped')
        }
      },
    })
    this.live.push(sub)
  }

  private async watch (nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        this.up = false
        this.on.disconnected(s.server)
      } else if (s.type === 'reconnect') {
        this.up = true
        this.reconnectAttempts = 0
        this.server = s.server
        this.on.reconnected(s.server)
      } else if (s.type === 'error' || s.type === 'slowConsumer') this.log.warn({ status: s }, 'NATS status')
    }
  }

  private options (): ConnectionOptions {
    const c = this.config
    const { servers, user, pass, token } = parseServers(c.url)
    const opts: ConnectionOptions = {
      servers,
      name: this.name,
      // The bridge never needs its own messages back: no echo keeps forwarded messages from looping.
      noEcho: true,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: () => backoff(++this.reconnectAttempts, c.reconnectMaxMs),
      timeout: 5000,
      pingInterval: 30_000,
    }
    // Credentials in the URL (`nats://user:pass@host`, `nats://token@host`) work as they do with the nats CLI.
    if (user !== undefined) Object.assign(opts, { user, pass })
    if (token !== undefined) opts.token = token
    if (c.user !== '') Object.assign(opts, { user: c.user, pass: c.password })
    if (c.token !== '') opts.token = c.token
    if (c.nkeySeed !== '') opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(c.nkeySeed))
    if (c.credsFile !== '') opts.authenticator = credsAuthenticator(readFileSync(c.credsFile))
    return opts
  }
}

/** 250 ms doubling to `maxMs`, plus up to 20 % jitter so a lattice of hosts does not retry in step. */
export function backoff (attempt: number, maxMs: number): number {
  const base = Math.min(maxMs, 250 * 2 ** Math.min(attempt - 1, 16))
  return Math.round(base * (1 + Math.random() * 0.2))
}

/** The servers of `nats.url` without credentials, and the credentials the first one carried. */
export function parseServers (url: string): { servers: string[], user?: string, pass?: string, token?: string } {
  const out: { servers: string[], user?: string, pass?: string, token?: string } = { servers: [] }
  for (const raw of url.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const withScheme = /^[a-z]+:\/\//.test(raw) ? raw : `nats://${raw}`
    let parsed: URL
    try {
      parsed = new URL(withScheme)
    } catch {
      out.servers.push(raw)
      continue
    }
    if (parsed.username !== '' && out.user === undefined && out.token === undefined) {
      if (parsed.password !== '') {
        out.user = decodeURIComponent(parsed.username)
        out.pass = decodeURIComponent(parsed.password)
      } else out.token = decodeURIComponent(parsed.username)
    }
    out.servers.push(`${parsed.protocol}//${parsed.host}`)
  }
  return out
}

/** `nats.url` as it may be shown in logs and alerts: credentials replaced by `***`. */
export function redactUrl (url: string): string {
  return url.replace(/(\/\/|^|,)([^/@,\s]+)@/g, '$1***@')
}
