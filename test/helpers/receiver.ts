import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received { method: string, url: string, headers: IncomingHttpHeaders, body: string, json: any, index: number }

/**
 * A real HTTP server on a free port standing in for Discord, Slack, a webhook...: it records every request and
 * answers each with the next status of `statuses` (then 200), or holds it unanswered (`hold`) like a receiver that
 * hangs. Tests await the request they expect instead of sleeping.
 */
export class Receiver {
  readonly requests: Received[] = []
  statuses: number[] = []
  /** While true, requests are recorded and never answered. */
  hold = false
  private readonly held: ServerResponse[] = []
  private waiters: Array<{ test: (r: Received) => boolean, resolve: (r: Received) => void }> = []
  private server: Server | undefined
  url = ''

  async start (port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        let json: unknown
        try { json = JSON.parse(body) } catch { json = undefined }
        const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json, index: this.requests.length }
        this.requests.push(r)
        this.waiters = this.waiters.filter((w) => {
          if (!w.test(r)) return true
          w.resolve(r)
          return false
        })
        if (this.hold) {
          this.held.push(res)
          return
        }
        res.statusCode = this.statuses.shift() ?? 200
        res.end('{}')
      })
    })
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  get port (): number {
    return Number(new URL(this.url).port)
  }

  /** The first request (already received or still to come) that passes `test`. */
  next (test: (r: Received) => boolean = () => true, timeoutMs = 10_000, what = 'a request'): Promise<Received> {
    const found = this.requests.find(test)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${this.requests.length} requests`)), timeoutMs)
      this.waiters.push({ test, resolve: (r) => { clearTimeout(timer); resolve(r) } })
    })
  }

  /** The n-th request (1-based). */
  nth (n: number, timeoutMs = 10_000): Promise<Received> {
    return this.next((r) => r.index === n - 1, timeoutMs, `request ${n}`)
  }

  async close (): Promise<void> {
    for (const res of this.held.splice(0)) res.destroy()
    this.server?.closeAllConnections()
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
  }
}
