import { Aedes, type Client, type PublishPacket } from 'aedes'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, createWebSocketStream } from 'ws'
import { ColonyError, isColonyError } from '../errors.js'
import type { Logger } from '../log.js'
import type { Clock } from '../clock.js'
import { topics } from '../wire/topics.js'
import { Bus } from './bus.js'
import { PacketSizeGuard } from './guard.js'
import { installHooks, type Violation } from './hooks.js'
import { createOrderedEmitter } from './mq.js'
import { adaptSessionStore, type OutgoingStore } from './session-store.js'
import { Sessions } from './sessions.js'
import { coalesceSocketWrites, coalesceWebSocketWrites } from './coalesce.js'
import { installLeanQos0Delivery } from './deliver-qos0.js'
import { isDurableTopic, type RetainedJournal } from './retained-journal.js'
import { credentialFrom, notLocalReason, type Gate } from '../auth/gate.js'
import type { Identity } from '../auth/identity.js'
import type { Acl } from '../acl.js'
import type { ProxyTrust } from '../http/proxy.js'

export interface BrokerOptions {
  log: Logger
  clock: Clock
  maxPacketBytes: number
  maxInflightPublishes: number
  /** Decides who a client is (credentials, or anonymous in loopback development mode). */
  gate: Gate
  acl: Acl
  /** Whose `X-Forwarded-For` names an MQTT-over-WebSocket client's address (absent: the peer's address). */
  proxyTrust?: ProxyTrust
  /** Keeps clients' retained messages across restarts (absent: in memory only). */
  retained?: RetainedJournal
}

export interface BrokerStats {
  clients: number
  /** Publishes from MQTT clients that were accepted. */
  messagesIn: number
  /** Publishes from inside the runtime (actors, bridges). */
  messagesInternal: number
  violations: number
}

/**
 * The embedded Aedes broker: MQTT over TCP, MQTT over WebSocket (`handleUpgrade`, mounted by the runtime
 * on the HTTP server) and the in-process `bus` actors use.
 */
export class Broker {
  readonly aedes: Aedes
  readonly bus: Bus
  private tcp: Server | undefined
  private readonly wss: WebSocketServer
  private readonly addresses = new WeakMap<object, string>()
  /** The raw connections under the guards, to let their last writes drain before closing. */
  private readonly connections = new Set<Socket | Duplex>()
  /** Identities established by a WebSocket upgrade's credentials (header, subprotocol or ?token=). */
  private readonly upgradeIdentities = new WeakMap<object, Identity>()
  /** WebSocket connections that are not a local tool's (a proxy forwarded them, another site's page opened them). */
  private readonly notLocal = new WeakMap<object, string>()
  /** Connections the packet guard closed for a wire violation. */
  private readonly refused = new WeakSet<object>()
  readonly sessions: Sessions
  /** Where clients' retained messages are kept across restarts (undefined with `mqtt.persistRetained: false`). */
  get retainedJournal (): RetainedJournal | undefined {
    return this.options.retained
  }

  private messagesIn = 0
  private violations = 0
  private closed = false

  private constructor (private readonly options: BrokerOptions, aedes: Aedes) {
    this.aedes = aedes
    this.bus = new Bus(aedes, options.log, options.maxInflightPublishes)
    this.sessions = new Sessions(options.clock)
    this.bus.identityOf = (clientId) => this.sessions.ofClientId(clientId)
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPacketBytes + 16,
      perMessageDeflate: false,
      // MQTT over WebSocket must answer with the MQTT subprotocol, not a `bearer.<token>` credential.
      handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith('mqtt')) ?? false,
    })
    installHooks(aedes, {
      maxPacketBytes: options.maxPacketBytes,
      acl: options.acl,
      authenticate: (client, password) => password !== undefined
        ? options.gate.identify(password)
        : this.upgradeIdentities.get(client.conn) ?? options.gate.identify(undefined, this.notLocal.get(client.conn)),
      accepted: (client, identity) => this.sessions.add(client, identity),
      identityOf: (client) => this.sessions.of(client),
      onViolation: (v) => this.reportViolation(v),
      onClientPublish: () => { this.messagesIn++ },
      ...(options.retained !== undefined && { storeRetained: (packet: PublishPacket, done: (err?: Error) => void) => this.storeRetained(packet, done) }),
      addressOf: (client) => this.addresses.get(client.conn),
      refusedConnection: (client) => this.refused.has(client.conn),
    })
    aedes.on('clientDisconnect', (client: Client) => this.sessions.remove(client))
    aedes.on('clientError', (client: Client, err: Error) => {
      const level = isColonyError(err) ? 'info' : 'debug'
      options.log[level]({ clientId: client.id, err: err.message }, 'mqtt client error; connection closed')
    })
    aedes.on('connectionError', (client: Client, err: Error) => {
      const level = isColonyError(err) ? 'info' : 'debug'
      options.log[level]({ clientId: client.id, err: err.message }, 'mqtt connection error')
    })
  }

  static async create (options: BrokerOptions): Promise<Broker> {
    // The emitter numbers packets from the broker's own sequence, so every counter stays on one scale.
    const sequence = { aedes: undefined as unknown as { counter: number } }
    const emitter = createOrderedEmitter(100, () => ++sequence.aedes.counter)
    const aedes = new Aedes({ heartbeatInterval: 60_000, drainTimeout: 60_000, mq: emitter.mq })
    sequence.aedes = aedes as unknown as { counter: number }
    await aedes.listen()
    adaptSessionStore((aedes as unknown as { persistence: OutgoingStore }).persistence, aedes.id, emitter.counterBeforeEmit)
    // Clients' retained messages from earlier runs, before anyone (actors included) subscribes.
    const persistence = (aedes as unknown as { persistence: { storeRetained(p: object): Promise<void> } }).persistence
    for (const m of options.retained?.load() ?? []) {
      await persistence.storeRetained({ cmd: 'publish', topic: m.topic, payload: m.payload, qos: m.qos, retain: true, dup: false })
    }
    return new Broker(options, aedes)
  }

  private storeRetained (packet: PublishPacket, done: (err?: Error) => void): void {
    if (this.options.retained === undefined || !isDurableTopic(packet.topic)) {
      done()
      return
    }
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)
    this.options.retained.record(packet.topic, payload, packet.qos, done)
  }

  /** Starts the MQTT TCP listener; resolves with the bound address (port 0 picks a free one). */
  async listenTcp (host: string, port: number): Promise<AddressInfo> {
    const server = createServer((socket) => {
      coalesceSocketWrites(socket)
      this.accept(socket, socket.remoteAddress)
    })
    this.tcp = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new ColonyError('listen_failed', `MQTT cannot listen on ${host}:${port}: ${err.message}`, { cause: err })))
      server.listen({ host, port }, () => resolve())
    })
    server.on('error', (err) => this.options.log.error({ err }, 'mqtt listener error'))
    return server.address() as AddressInfo
  }

  /**
   * Upgrades an HTTP request on the MQTT-over-WebSocket path. Credentials on the upgrade (for browsers, which
   * cannot set headers: `?token=` or a `bearer.<token>` subprotocol) are checked now and stand for a CONNECT
   * without a password; wrong ones get 401 before the upgrade.
   */
  handleUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let identity: Identity | undefined
    try {
      const credential = credentialFrom(req.headers, new URL(req.url ?? '/', 'http://localhost').searchParams)
      if (credential !== undefined) identity = this.options.gate.identify(credential)
    } catch (err) {
      refuseUpgrade(socket, isColonyError(err) ? err : new ColonyError('unauthorized'))
      return
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws)
      coalesceWebSocketWrites(stream, ws)
      stream.on('error', () => ws.terminate())
      if (identity !== undefined) this.upgradeIdentities.set(stream, identity)
      const notLocal = notLocalReason(req.headers)
      if (notLocal !== undefined) this.notLocal.set(stream, notLocal)
      this.accept(stream, this.options.proxyTrust?.clientAddress(req) ?? req.socket.remoteAddress, req)
    })
  }

  private accept (conn: Socket | Duplex, remoteAddress: string | undefined, req?: IncomingMessage): void {
    if (this.closed) {
      conn.destroy()
      return
    }
    if (remoteAddress !== undefined) this.addresses.set(conn, remoteAddress)
    const client = this.aedes.handle(conn, req)
    installLeanQos0Delivery(client as unknown as Parameters<typeof installLeanQos0Delivery>[0])
    // Aedes reads in paused mode ('readable' + read()); a 'data' listener then sees each chunk as Aedes reads
    // it, without switching the stream to flowing mode or wrapping the socket.
    const guard = new PacketSizeGuard(this.options.maxPacketBytes)
    const onData = (chunk: Buffer): void => {
      const err = guard.check(chunk)
      if (err === undefined) return
      conn.off('data', onData)
      this.refused.add(conn)
      const identity = this.sessions.of(client)
      this.reportViolation({
        code: err.code,
        clientId: client.id ?? '(connecting)',
        topic: typeof err.details?.topic === 'string' ? err.details.topic : '',
        reason: err.message,
        ...(remoteAddress !== undefined && { remoteAddress }),
        ...(identity !== undefined && { user: identity.email }),
      })
      // Aedes parses this chunk right after this listener returns; the hooks refuse what a refused
      // connection still sends, so nothing from it is published or subscribed.
      conn.destroy()
    }
    conn.on('data', onData)
    conn.on('error', () => conn.destroy())
    this.connections.add(conn)
    conn.once('close', () => this.connections.delete(conn))
  }

  private reportViolation (v: Violation): void {
    this.violations++
    this.options.log.warn({ violation: v }, v.code === 'mqtt_invalid_filter' ? 'mqtt subscribe refused' : 'mqtt publish refused')
    this.bus.publish(topics.systemViolations, { ...v, timestampMs: this.options.clock.now() })
  }

  stats (): BrokerStats {
    return {
      clients: this.aedes.connectedClients,
      messagesIn: this.messagesIn,
      messagesInternal: this.bus.published,
      violations: this.violations,
    }
  }

  /** Stops accepting new MQTT connections; existing ones stay until `close`. */
  stopAccepting (): void {
    this.closed = true
    this.tcp?.close()
  }

  /** Closes every client, the broker and the TCP listener. Safe to call twice. */
  async close (): Promise<void> {
    this.stopAccepting()
    await this.bus.drained()
    // Aedes writes QoS 0 deliveries on the next turn and destroys sockets on close: let the last messages
    // (the actors' final statuses) reach the sockets first.
    await new Promise((resolve) => setImmediate(resolve))
    await new Promise((resolve) => setImmediate(resolve))
    await Promise.all([...this.connections].map((c) => drainedOrTimeout(c, 1000)))
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()))
    this.options.retained?.flush()
    for (const ws of this.wss.clients) ws.terminate()
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
    if (this.tcp?.listening === true) await new Promise<void>((resolve) => this.tcp?.close(() => resolve()))
  }
}

function refuseUpgrade (socket: Duplex, err: ColonyError): void {
  const body = JSON.stringify({ error: { code: err.code, message: err.message } })
  socket.end(`HTTP/1.1 ${err.status} ${err.status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}

function drainedOrTimeout (conn: Socket | Duplex, ms: number): Promise<void> {
  if (conn.destroyed || conn.writableLength === 0) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    conn.once('drain', done)
    conn.once('close', done)
    function done (): void {
      clearTimeout(timer)
      conn.off('drain', done)
      conn.off('close', done)
      resolve()
    }
  })
}
