import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { ColonyError, errorBody } from '../errors.js'
import type { Logger } from '../log.js'
import { DeadlineKeeper, endRaw, type HttpDeadlines } from './deadlines.js'

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void

/**
 * The one HTTP server: the REST bridge installs the request handler, the broker mounts MQTT over WebSocket,
 * the WS bridge mounts its stream. Upgrades are routed by exact path (or a path test); anything else gets a JSON 404.
 */
export class HttpHost {
  readonly server: Server
  private handler: RequestListener | undefined
  private readonly upgrades = new Map<string, UpgradeHandler>()
  /** Endpoints whose path has variables (a worker's connect stream): tried in order after the exact paths. */
  private readonly patterns: Array<{ test: (path: string) => boolean, handler: UpgradeHandler }> = []
  private closing = false
  readonly deadlines: DeadlineKeeper

  constructor (private readonly log: Logger, limits: HttpDeadlines = { headersTimeoutMs: 30_000, bodyTimeoutMs: 60_000 }) {
    // Node's own timeouts off: DeadlineKeeper enforces both exactly, per connection (see there why).
    this.server = createServer({ requestTimeout: 0, headersTimeout: 0 }, (req, res) => this.onRequest(req, res))
    this.deadlines = new DeadlineKeeper(this.server, limits, log)
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head))
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      this.log.debug({ err: err.message, code: err.code }, 'http client error')
      if (!socket.writable || err.code === 'ECONNRESET') {
        socket.destroy()
        return
      }
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') endRaw(socket, 408, new ColonyError('request_timeout'))
      else if (err.code === 'HPE_HEADER_OVERFLOW') socket.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n', () => socket.destroy())
      else socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n', () => socket.destroy())
    })
  }

  /** Installs the request handler (the REST bridge); returns a function that removes it. */
  setHandler (handler: RequestListener): () => void {
    this.handler = handler
    return () => { if (this.handler === handler) this.handler = undefined }
  }

  /** Mounts a WebSocket (or other upgrade) endpoint at an exact path. */
  route (path: string, handler: UpgradeHandler): () => void {
    if (this.upgrades.has(path)) throw new Error(`upgrade path ${path} mounted twice`)
    this.upgrades.set(path, handler)
    return () => { if (this.upgrades.get(path) === handler) this.upgrades.delete(path) }
  }

  /** Mounts an upgrade endpoint for every path `test` accepts. */
  routeMatching (test: (path: string) => boolean, handler: UpgradeHandler): () => void {
    const entry = { test, handler }
    this.patterns.push(entry)
    return () => {
      const at = this.patterns.indexOf(entry)
      if (at !== -1) this.patterns.splice(at, 1)
    }
  }

  async listen (host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new ColonyError('listen_failed', `HTTP cannot listen on ${host}:${port}: ${err.message}`, { cause: err }))
      this.server.once('error', onError)
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError)
        resolve()
      })
    })
    this.server.on('error', (err) => this.log.error({ err }, 'http server error'))
    return this.server.address() as AddressInfo
  }

  /** Step 1 of shutdown: new connections are refused, new requests get 503 `shutting_down`. */
  beginClose (): void {
    this.closing = true
    this.server.close()
    this.server.closeIdleConnections()
  }

  async close (): Promise<void> {
    this.beginClose()
    this.server.closeAllConnections()
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private onRequest (req: IncomingMessage, res: ServerResponse): void {
    if (this.closing || this.handler === undefined) {
      const err = new ColonyError(this.closing ? 'shutting_down' : 'not_ready')
      res.writeHead(err.status, { 'content-type': 'application/json', connection: 'close', 'retry-after': '1' })
      res.end(JSON.stringify(errorBody(err)))
      return
    }
    this.handler(req, res)
  }

  private onUpgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy())
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const handler = this.closing ? undefined : this.upgrades.get(path) ?? this.patterns.find((p) => p.test(path))?.handler
    if (handler === undefined) {
      const err = new ColonyError(this.closing ? 'shutting_down' : 'route_not_found', this.closing ? undefined : `no WebSocket endpoint at ${path.slice(0, 80)}`)
      endRaw(socket, err.status, err)
      return
    }
    try {
      handler(req, socket, head)
    } catch (err) {
      this.log.error({ err, path }, 'upgrade handler threw')
      socket.destroy()
    }
  }
}
