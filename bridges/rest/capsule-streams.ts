import type { IncomingHttpHeaders } from 'node:http'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import { endRaw, toColonyError, type Gate, type HttpHost, type Identity } from '../../src/index.js'
import type { CapsuleCaller, CapsuleService } from '../../src/capsules.js'
import type { RemoteCapsules } from '../../src/hosts.js'

const EXEC_STREAM = /^\/v1\/capsules\/([^/]+)\/exec\/stream$/
const PTY = /^\/v1\/capsules\/([^/]+)\/pty$/
/** Wrenn pings a PTY client every 30 s. */
const PING_MS = 30_000
/** Wrenn: without credentials on the upgrade, the first message must authenticate within 5 s. */
const AUTH_WAIT_MS = 5000
/** Client messages are small JSON frames (PTY input is at most a paste). */
const MAX_FRAME = 1024 * 1024

type Send = (frame: Record<string, unknown>) => void

/**
 * Wrenn's two WebSockets of a capsule, with the same credentials as every route (a header, or `?token=` for
 * browsers):
 * - `/v1/capsules/{id}/exec/stream`: first frame `{type: "start", cmd, args?, envs?, cwd?}`; the server sends
 *   `{type: "start", pid}`, `{type: "stdout"|"stderr", data}`, `{type: "exit", exit_code}` and closes; `{type: "stop"}`
 *   or closing the socket only detaches (the process runs on, as in Wrenn).
 * - `/v1/capsules/{id}/pty`: first frame `{type: "start", cmd?, args?, cols?, rows?, envs?, cwd?}` (default bash
 *   80x24; answered `{type: "started", tag, pid}`) or `{type: "connect", tag}`; then `{type: "input", data: base64}`,
 *   `{type: "resize", cols, rows}`, `{type: "kill"}`; the server sends `{type: "output", data: base64}`,
 *   `{type: "exit", exit_code}`, `{type: "error", data, fatal}` and `{type: "ping"}` every 30 s. The session outlives
 *   the socket; `connect` by its tag re-attaches (with the last 64 KiB of output first).
 *
 * A capsule on a joined Colony (see `hosts-forward.ts`) is served there: once the caller is known to own it here,
 * its socket is relayed frame for frame to the same path on that Colony, with the key this one was given.
 */
export function mountCapsuleStreams ({ http, gate, capsules, remote, activeTeam }: {
  http: HttpHost
  gate: Gate
  capsules: CapsuleService
  remote?: RemoteCapsules
  activeTeam: (who: Identity) => string
}): () => void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME })
  const sockets = new Set<WebSocket>()

  const upgrade = (pattern: RegExp, local: (ws: WebSocket, as: CapsuleCaller, id: string) => void) =>
    http.routeMatching((path) => pattern.test(path), (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const [, raw = ''] = pattern.exec(url.pathname) ?? []
      const id = decodeURIComponent(raw)
      const isRemote = (as: CapsuleCaller): boolean => remote?.owned(as, id) !== undefined
      // The path only: the query may hold this Colony's `?token=`, which is not for the other one.
      const serve = (ws: WebSocket, as: CapsuleCaller): void => {
        if (remote !== undefined && isRemote(as)) relay(ws, remote, as, id, url.pathname)
        else local(ws, as, id)
      }
      /** 404 / 409 before the upgrade, as a plain HTTP answer (a remote capsule's state is its host's to say). */
      const check = (as: CapsuleCaller): void => { if (!isRemote(as)) capsules.running(as, id) }
      const accept = (then: (ws: WebSocket) => void): void => {
        wss.handleUpgrade(req, socket, head, (ws) => {
          sockets.add(ws)
          ws.on('close', () => sockets.delete(ws))
          ws.on('error', () => ws.terminate())
          then(ws)
        })
      }
      try {
        if (!hasCredential(req.headers, url.searchParams)) {
          try {
            // Development mode (anonymous on loopback) needs nothing more.
            const who = gate.identifyHeaders(req.headers, url.searchParams)
            const as: CapsuleCaller = { teamId: activeTeam(who), isAdmin: false }
            check(as)
            accept((ws) => { serve(ws, as) })
          } catch (err) {
            if (toColonyError(err).code !== 'unauthorized') throw err
            // Browsers cannot set headers on a WebSocket: Wrenn's first message {type: "auth", token} within 5 s.
            accept((ws) => { authFirst(ws, check, serve) })
          }
          return
        }
        const who = gate.identifyHeaders(req.headers, url.searchParams)
        const as: CapsuleCaller = { teamId: activeTeam(who), isAdmin: false }
        check(as)
        accept((ws) => { serve(ws, as) })
      } catch (err) {
        const e = toColonyError(err)
        endRaw(socket, e.status, e)
      }
    })

  const authFirst = (ws: WebSocket, check: (as: CapsuleCaller) => void, serve: (ws: WebSocket, as: CapsuleCaller) => void): void => {
    const send = sender(ws)
    const refuse = (): void => {
      send({ type: 'error', data: 'authentication failed' })
      ws.close(1008)
    }
    const timer = setTimeout(refuse, AUTH_WAIT_MS)
    ws.once('message', (data) => {
      clearTimeout(timer)
      const m = parse(data)
      if (m?.type !== 'auth' || typeof m.token !== 'string' || m.token === '') return refuse()
      try {
        const who = gate.identify(m.token)
        const as: CapsuleCaller = { teamId: activeTeam(who), isAdmin: false }
        check(as)
        serve(ws, as)
      } catch (err) {
        const e = toColonyError(err)
        if (e.code === 'unauthorized') return refuse()
        send({ type: 'error', data: e.message, fatal: true })
        ws.close(1008)
      }
    })
    ws.on('close', () => clearTimeout(timer))
  }

  const sender = (ws: WebSocket): Send => (frame) => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame)) }
  const parse = (data: RawData): Record<string, unknown> | undefined => {
    try {
      const v = JSON.parse((data as Buffer).toString('utf8')) as unknown
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined
    } catch {
      return undefined
    }
  }
  const strings = (v: unknown): string[] | undefined => Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined
  const env = (v: unknown): Record<string, string> | undefined =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string') ? v as Record<string, string> : undefined

  const execStream = (ws: WebSocket, as: CapsuleCaller, id: string): void => {
    const send = sender(ws)
    ws.once('message', (data) => {
      const m = parse(data)
      if (m?.type !== 'start' || typeof m.cmd !== 'string' || m.cmd === '') {
        send({ type: 'error', data: 'the first message must be {"type":"start","cmd":...}' })
        ws.close(1008)
        return
      }
      try {
        const sandbox = capsules.running(as, id)
        capsules.touch(id)
        const proc = sandbox.spawn({
          cmd: m.cmd, args: strings(m.args) ?? [],
          ...(env(m.envs) !== undefined && { env: env(m.envs) }),
          ...(typeof m.cwd === 'string' && m.cwd !== '' && { cwd: m.cwd }),
        })
        send({ type: 'start', pid: proc.pid })
        // Wrenn sends the bytes as a string.
        proc.on('stdout', (b) => send({ type: 'stdout', data: b.toString('utf8') }))
        proc.on('stderr', (b) => send({ type: 'stderr', data: b.toString('utf8') }))
        proc.on('exit', (code) => {
          capsules.touch(id)
          send({ type: 'exit', exit_code: code })
          ws.close(1000)
        })
        ws.on('message', (more) => { if (parse(more)?.type === 'stop') ws.close(1000) })
      } catch (err) {
        send({ type: 'error', data: toColonyError(err).message })
        ws.close(1011)
      }
    })
  }

  const pty = (ws: WebSocket, as: CapsuleCaller, id: string): void => {
    const send = sender(ws)
    let tag: string | undefined
    let detach: (() => void) | undefined
    const ping = setInterval(() => send({ type: 'ping' }), PING_MS)
    ws.on('close', () => {
      clearInterval(ping)
      detach?.()
    })
    const listener = {
      data: (b: Buffer) => send({ type: 'output', data: b.toString('base64') }),
      exit: (code: number) => {
        send({ type: 'exit', exit_code: code })
        ws.close(1000)
      },
    }
    ws.on('message', (data) => {
      const m = parse(data)
      try {
        if (tag === undefined) {
          if (m?.type === 'start') {
            const sandbox = capsules.running(as, id)
            capsules.touch(id)
            const started = capsules.ptys.start(id, sandbox, {
              cmd: typeof m.cmd === 'string' && m.cmd !== '' ? m.cmd : '/bin/bash',
              args: strings(m.args) ?? [],
              cols: positive(m.cols, 80),
              rows: positive(m.rows, 24),
              ...(env(m.envs) !== undefined && { env: env(m.envs) }),
              ...(typeof m.cwd === 'string' && m.cwd !== '' && { cwd: m.cwd }),
            })
            tag = started.tag
            send({ type: 'started', tag: started.tag, pid: started.pid })
            detach = capsules.ptys.attach(id, started.tag, listener, false)
          } else if (m?.type === 'connect' && typeof m.tag === 'string') {
            capsules.touch(id)
            detach = capsules.ptys.attach(id, m.tag, listener, true)
            tag = m.tag
          } else {
            send({ type: 'error', data: 'first message must be type \'start\' or \'connect\'', fatal: true })
            ws.close(1008)
          }
          return
        }
        if (m?.type === 'input' && typeof m.data === 'string') {
          capsules.touch(id)
          capsules.ptys.input(id, tag, Buffer.from(m.data, 'base64'))
        } else if (m?.type === 'resize') {
          capsules.ptys.resize(id, tag, positive(m.cols, 0), positive(m.rows, 0))
        } else if (m?.type === 'kill') {
          capsules.ptys.kill(id, tag)
        } else {
          send({ type: 'error', data: 'unknown message', fatal: false })
        }
      } catch (err) {
        const fatal = tag === undefined
        send({ type: 'error', data: toColonyError(err).message, fatal })
        if (fatal) ws.close(1011)
      }
    })
  }

  const unmounts = [upgrade(EXEC_STREAM, execStream), upgrade(PTY, pty)]
  return () => {
    for (const u of unmounts) u()
    for (const ws of sockets) ws.terminate()
    wss.close()
  }
}

/** Close codes a peer may send: what came from the other side when it is one, else 1011 (an internal error). */
function sendable (code: number): number {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999) ? code : 1011
}

/**
 * Relays a client's socket to the same path on the joined Colony that runs the capsule: frames both ways as they
 * are (text stays text), what the client sends before the other side is open is held, and whichever side closes
 * closes the other with its code.
 */
function relay (client: WebSocket, remote: RemoteCapsules, as: CapsuleCaller, id: string, path: string): void {
  let upstream: WebSocket
  try {
    const target = remote.endpoint(as, id)
    upstream = new WebSocket(`${target.base.replace(/^http/, 'ws')}${path}`, { headers: { 'x-api-key': target.apiKey }, maxPayload: 64 * MAX_FRAME })
  } catch (err) {
    client.send(JSON.stringify({ type: 'error', data: toColonyError(err).message, fatal: true }))
    client.close(1011)
    return
  }
  const held: Array<[RawData, boolean]> = []
  client.on('message', (data, isBinary) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary: isBinary })
    else held.push([data, isBinary])
  })
  upstream.on('open', () => { for (const [data, isBinary] of held.splice(0)) upstream.send(data, { binary: isBinary }) })
  upstream.on('message', (data, isBinary) => { if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary }) })
  upstream.on('close', (code, reason) => { if (client.readyState === WebSocket.OPEN) client.close(sendable(code), reason) })
  upstream.on('error', () => {
    if (client.readyState === WebSocket.OPEN) {
      client.send(JSON.stringify({ type: 'error', data: 'the capsule\'s host cannot be reached', fatal: true }))
      client.close(1011)
    }
  })
  client.on('close', (code, reason) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.close(sendable(code), reason)
    else if (upstream.readyState === WebSocket.CONNECTING) upstream.terminate()
  })
}

function positive (v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 10_000 ? v : fallback
}

/** A credential on the upgrade itself: an Authorization or X-API-Key header, or `?token=`. */
function hasCredential (headers: IncomingHttpHeaders, query: URLSearchParams): boolean {
  return (headers.authorization ?? '') !== '' || (headers['x-api-key'] ?? '') !== '' || (query.get('token') ?? '') !== ''
}
