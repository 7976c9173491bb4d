import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ready, serve } from '../lib/child.js'

/**
 * The REST invocation baseline: `node:http` that reads the JSON request body, parses it (as Colony must) and
 * answers with pre-serialized bytes (the body Colony answered for the same call). No routing, auth or framework:
 * what is left is the HTTP round trip itself.
 */
export interface HttpEchoArgs { bodyBase64: string }
export interface HttpEchoInfo { pid: number, port: number }

let body = Buffer.alloc(0)
const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      res.writeHead(400).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length })
    res.end(body)
  })
})

serve({
  serve: async (a): Promise<HttpEchoInfo> => {
    body = Buffer.from((a as HttpEchoArgs).bodyBase64, 'base64')
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()))
    return { pid: process.pid, port: (server.address() as AddressInfo).port }
  },
}, async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

ready({ pid: process.pid })
