/**
 * One attempt over HTTP: Wrenn's rules — a timeout for the whole exchange, redirects never followed (a 3xx is a
 * failure: a provider that moves would otherwise carry secrets somewhere else), anything but 2xx a failure. What a
 * failure says never holds the URL or a header: webhook URLs and tokens are secrets.
 */
import http from 'node:http'
import https from 'node:https'
import type { OutgoingRequest } from './providers/index.js'

export interface SendResult { ok: boolean, status?: number, error?: string }

/** Connections are kept and reused: a burst to one receiver costs a few sockets, not one per delivery. */
const MAX_SOCKETS = 16
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
}

export function send (req: OutgoingRequest, timeoutMs: number): Promise<SendResult> {
  let url: URL
  try {
    url = new URL(req.url)
  } catch {
    return Promise.resolve({ ok: false, error: 'invalid URL' })
  }
  const agent = url.protocol === 'https:' ? agents['https:'] : url.protocol === 'http:' ? agents['http:'] : undefined
  if (agent === undefined) return Promise.resolve({ ok: false, error: 'not an http(s) URL' })
  const body = Buffer.from(req.body, 'utf8')
  return new Promise((resolve) => {
    let settled = false
    const done = (r: SendResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(r)
    }
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: req.method,
      agent,
      headers: { ...req.headers, 'Content-Length': String(body.length), 'User-Agent': 'Colony-Channels' },
    }, (res) => {
      const status = res.statusCode ?? 0
      // The answer is read to its end so the socket can be reused; its content does not matter.
      res.resume()
      res.once('end', () => done(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status, error: `HTTP ${status}` }))
      res.once('error', () => done({ ok: false, status, error: 'the answer broke off' }))
    })
    const timer = setTimeout(() => {
      request.destroy()
      done({ ok: false, error: `no answer within ${timeoutMs} ms` })
    }, timeoutMs)
    timer.unref()
    request.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? 'request failed' }))
    request.end(body)
  })
}
