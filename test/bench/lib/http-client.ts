import { randomUUID } from 'node:crypto'
import { Agent, request } from 'node:http'

export interface HttpReply { status: number, body: Buffer }

/**
 * One keep-alive connection, for latency: a fresh TCP connection per call would measure the handshake. `close()`
 * destroys the socket, so nothing of ours keeps a server (or this process) alive.
 */
export class HttpClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 })

  send (method: string, url: string, body: Buffer, headers: Record<string, string>): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const req = request(url, { method, agent: this.agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    })
  }

  async json<T> (method: string, url: string, value: unknown): Promise<T> {
    const reply = await this.send(method, url, Buffer.from(JSON.stringify(value)), { 'content-type': 'application/json' })
    if (reply.status !== 200) throw new Error(`${method} ${url} answered ${reply.status}: ${reply.body.toString('utf8').slice(0, 300)}`)
    return JSON.parse(reply.body.toString('utf8')) as T
  }

  close (): void {
    this.agent.destroy()
  }
}

/** A multipart/form-data body with text fields and one file, as `curl -F` sends it. */
export function multipart (fields: Record<string, string>, file: { field: string, filename: string, bytes: Uint8Array }): { body: Buffer, contentType: string } {
  const boundary = `----colony-bench-${randomUUID()}`
  const parts: Buffer[] = []
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`))
  }
  parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\n` +
    'content-type: application/wasm\r\n\r\n'), Buffer.from(file.bytes), Buffer.from(`\r\n--${boundary}--\r\n`))
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` }
}
