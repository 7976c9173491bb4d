import { WebSocketServer, type WebSocket } from 'ws'
import { endRaw, toColonyError, type Gate, type HttpHost } from '../../src/index.js'
import type { WorkerEvent, WorkerService } from '../../src/workers.js'

const CONNECT = /^\/v1\/components\/([^/]+)\/workers\/([^/]+)\/connect$/

/**
 * Golem's worker connect stream: a WebSocket at `/v1/components/{id}/workers/{name}/connect`, authenticated like
 * every request (header, or `?token=` for browsers), that sends the worker's last events and then each new one as
 * a text frame of Golem's externally tagged JSON. The server pings every `connectPingMs` and closes a client that
 * has not answered within `connectPongTimeoutMs`.
 */
export function mountConnect ({ http, gate, workers }: { http: HttpHost, gate: Gate, workers: WorkerService }): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 })
  const sockets = new Set<WebSocket>()
  const unmount = http.routeMatching((path) => CONNECT.test(path), (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const [, id = '', name = ''] = CONNECT.exec(url.pathname) ?? []
    let key: Promise<string>
    try {
      const who = gate.identifyHeaders(req.headers, url.searchParams)
      key = workers.connect(who, decodeURIComponent(id), decodeURIComponent(name))
    } catch (err) {
      const e = toColonyError(err)
      endRaw(socket, e.status, e)
      return
    }
    key.then((streamKey) => {
      wss.handleUpgrade(req, socket, head, (ws) => serve(ws, streamKey))
    }, (err: unknown) => {
      const e = toColonyError(err)
      endRaw(socket, e.status, e)
    })
  })

  const serve = (ws: WebSocket, streamKey: string): void => {
    sockets.add(ws)
    const send = (event: WorkerEvent): void => { ws.send(JSON.stringify(event)) }
    const { history, unsubscribe } = workers.events.subscribe(streamKey, send)
    for (const event of history) send(event)
    let answered = true
    let deadline: NodeJS.Timeout | undefined
    const pinger = setInterval(() => {
      answered = false
      ws.ping()
      deadline = setTimeout(() => { if (!answered) ws.terminate() }, workers.settings.connectPongTimeoutMs)
    }, workers.settings.connectPingMs)
    ws.on('pong', () => {
      answered = true
      clearTimeout(deadline)
    })
    ws.on('error', () => ws.terminate())
    ws.on('close', () => {
      clearInterval(pinger)
      clearTimeout(deadline)
      unsubscribe()
      sockets.delete(ws)
    })
  }

  return () => {
    unmount()
    for (const ws of sockets) ws.terminate()
    wss.close()
  }
}
