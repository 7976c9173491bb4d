import { connect as tcpConnect, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { WebSocket } from 'ws'

/** A /ws client that records every frame as parsed JSON. */
export class StreamRecorder {
  readonly frames: any[] = []
  private waiters: Array<{ test: () => boolean, resolve: () => void }> = []

  private constructor (readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.isBuffer(data) ? data.toString() : Buffer.from(data).toString()
      this.frames.push(JSON.parse(text))
      this.waiters = this.waiters.filter((w) => {
        if (!w.test()) return true
        w.resolve()
        return false
      })
    })
  }

  static open (url: string): Promise<StreamRecorder> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url)
      ws.once('open', () => resolve(new StreamRecorder(ws)))
      ws.once('error', reject)
    })
  }

  /** Resolves when `test` holds (checked on every frame), or rejects after `timeoutMs`. */
  until (test: () => boolean, timeoutMs = 5000, what = 'frames'): Promise<void> {
    if (test()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what} (have ${this.frames.length})`)), timeoutMs)
      this.waiters.push({ test, resolve: () => { clearTimeout(timer); resolve() } })
    })
  }

  close (): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve())
      this.ws.close()
    })
  }
}

/** Completes a WebSocket handshake on a raw socket and then never reads again: the slowest possible client. */
export function neverReadingClient (url: string): Promise<Socket> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: u.hostname, port: Number(u.port) }, () => {
      socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
    })
    let head = ''
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      socket.pause()
      if (head.startsWith('HTTP/1.1 101')) resolve(socket)
      else reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`))
    }
    socket.on('data', onData)
    socket.once('error', reject)
  })
}
