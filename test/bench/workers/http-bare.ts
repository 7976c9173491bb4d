import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ready, serve } from '../lib/child.js'

/**
 * The HTTP baseline: `node:http` answering every request with the same pre-serialized bytes and content
 * type Colony sent for `GET /api/actors`. Nothing else: no routing, no framework, no headers of its own.
 */
export interface BareHttpArgs { bodyBase64: string, contentType: string }
export interface BareHttpInfo { pid: number, port: number }

let body = Buffer.alloc(0)
let contentType = 'application/json'
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': contentType, 'content-length': body.length })
  res.end(body)
})

serve({
  serve: async (a): Promise<BareHttpInfo> => {
    const args = a as BareHttpArgs
    body = Buffer.from(args.bodyBase64, 'base64')
    contentType = args.contentType
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()))
    return { pid: process.pid, port: (server.address() as AddressInfo).port }
  },
}, async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

ready({ pid: process.pid })
