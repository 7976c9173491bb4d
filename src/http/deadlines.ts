import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { ColonyError, errorBody } from '../errors.js'
import type { Logger } from '../log.js'

export interface HttpDeadlines {
  /** A request's headers must arrive within this, from the connection or the end of the previous response. */
  headersTimeoutMs: number
  /** A request's body must arrive within this, from the end of its headers. */
  bodyTimeoutMs: number
}

interface ConnectionState {
  timer: NodeJS.Timeout | undefined
  /** Whether the next request's headers are awaited (the timer's callback acts only then). */
  awaiting: boolean
  /** Requests read whose responses have not finished: while any is open, no headers are awaited. */
  open: number
  served: number
  bytesReadAtArm: number
}

/** Last resort when a timed-out peer does not even take our 408 (its receive window is full). */
const FLUSH_GRACE_MS = 1000

function hasBody (req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * Exact header and body deadlines, one timer per connection or request. Node's own `headersTimeout` and
 * `requestTimeout` are only checked by a sweep every `connectionsCheckingInterval` (30 s by default) and in
 * practice let hundreds of stalled sockets (slowloris) stay open for minutes, so the server is created with
 * both off and this takes their place. A timed-out request is answered `408 request_timeout` (JSON, like
 * every other error) where a response is still possible, and its connection is closed.
 */
export class DeadlineKeeper {
  private readonly connections = new WeakMap<Socket, ConnectionState>()
  headerTimeouts = 0
  bodyTimeouts = 0

  constructor (server: Server, private readonly limits: HttpDeadlines, private readonly log: Logger) {
    server.on('connection', (socket: Socket) => {
      const state: ConnectionState = { timer: undefined, awaiting: false, open: 0, served: 0, bytesReadAtArm: 0 }
      this.connections.set(socket, state)
      this.awaitHeaders(socket, state)
      socket.once('close', () => clearTimeout(state.timer))
    })
    // prependListener: the deadline must be settled before any handler can answer (or hand the socket over).
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res))
    server.prependListener('upgrade', (req: IncomingMessage) => {
      // The upgrade handler owns the socket from here (WebSocket pings watch it); no more HTTP deadlines.
      const state = this.connections.get(req.socket)
      if (state !== undefined) clearTimeout(state.timer)
      this.connections.delete(req.socket)
    })
  }

  private onRequest (req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket
    const state = this.connections.get(socket)
    if (state === undefined) return
    // The headers timer stays armed: its callback does nothing while a request is open, and the next wait re-arms it.
    state.awaiting = false
    state.open++
    let bodyTimer: NodeJS.Timeout | undefined
    // 'request' comes before the parser has seen the end of even a bodiless request, so `complete` is still false
    // for a GET. A request with neither Content-Length nor Transfer-Encoding has no body [RFC 9112 6.3]: no timer,
    // which was two listeners and a timer created and cleared on every such request.
    if (!req.complete && hasBody(req)) {
      bodyTimer = setTimeout(() => this.onBodyTimeout(req, res), this.limits.bodyTimeoutMs).unref()
      const stop = (): void => clearTimeout(bodyTimer)
      req.once('end', stop)
      req.once('close', stop)
    }
    res.once('close', () => {
      state.open--
      state.served++
      if (state.open === 0 && !socket.destroyed) this.awaitHeaders(socket, state)
    })
  }

  private awaitHeaders (socket: Socket, state: ConnectionState): void {
    state.bytesReadAtArm = socket.bytesRead
    state.awaiting = true
    // One timer per connection, re-armed for each wait: cheaper than a new one per request.
    if (state.timer === undefined) state.timer = setTimeout(() => this.onHeadersTimeout(socket, state), this.limits.headersTimeoutMs).unref()
    else state.timer.refresh()
  }

  private onHeadersTimeout (socket: Socket, state: ConnectionState): void {
    if (!state.awaiting || socket.destroyed) return
    state.awaiting = false
    // A kept-alive connection with nothing new on it is simply idle: close it without a response nobody asked for.
    if (state.served > 0 && socket.bytesRead === state.bytesReadAtArm) {
      socket.destroy()
      return
    }
    this.headerTimeouts++
    this.log.info({ remote: socket.remoteAddress, ms: this.limits.headersTimeoutMs }, 'request headers timed out')
    endRaw(socket, 408, new ColonyError('request_timeout', `the request headers did not arrive within ${this.limits.headersTimeoutMs} ms`))
  }

  private onBodyTimeout (req: IncomingMessage, res: ServerResponse): void {
    if (req.complete || req.socket.destroyed) return
    this.bodyTimeouts++
    this.log.info({ remote: req.socket.remoteAddress, method: req.method, path: req.url?.split('?')[0]?.slice(0, 200), ms: this.limits.bodyTimeoutMs },
      'request body timed out')
    const socket = req.socket
    if (res.headersSent) {
      // Already answered (without reading the body): nobody to tell, only the connection to end.
      socket.destroy()
      return
    }
    const body = JSON.stringify(errorBody(new ColonyError('request_timeout', `the request body did not arrive within ${this.limits.bodyTimeoutMs} ms`)))
    res.writeHead(408, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' })
    // The rest of the body must never be read as a next request: the connection ends with this response.
    res.end(body, () => socket.destroy())
    setTimeout(() => socket.destroy(), FLUSH_GRACE_MS).unref()
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout', 503: 'Service Unavailable' }

/**
 * Answers on a raw socket (no ServerResponse: headers never completed, or an upgrade was refused) and closes
 * it. `end()` alone would leave it half-open (HTTP sockets allow that) for as long as the peer likes.
 */
export function endRaw (socket: Duplex, status: number, err: ColonyError, extraHeaders = ''): void {
  const body = JSON.stringify(errorBody(err))
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nContent-Type: application/json\r\n${extraHeaders}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy())
  setTimeout(() => socket.destroy(), FLUSH_GRACE_MS).unref()
}
