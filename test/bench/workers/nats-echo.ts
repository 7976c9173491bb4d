import { connect, type NatsConnection } from '@nats-io/transport-node'
import { ready, serve } from '../lib/child.js'

/**
 * The NATS request/reply baseline: a bare @nats-io/transport-node responder that answers every request on a
 * subject with pre-serialized bytes (what Colony answered for the control request it stands in for). No routing,
 * no parsing, no handler: what is left is the NATS round trip itself, through the same nats-server.
 */
export interface NatsEchoArgs {
  url: string
  /** Subject -> the reply's bytes, base64. */
  replies: Record<string, string>
}
export interface NatsEchoInfo { pid: number }

let nc: NatsConnection | undefined

serve({
  serve: async (a): Promise<NatsEchoInfo> => {
    const args = a as NatsEchoArgs
    const conn = await connect({ servers: args.url, name: 'colony-bench nats-echo' })
    nc = conn
    for (const [subject, base64] of Object.entries(args.replies)) {
      const body = Buffer.from(base64, 'base64')
      conn.subscribe(subject, { callback: (err, msg) => { if (err === null) msg.respond(body) } })
    }
    // The subscriptions have reached the server once it answers a ping.
    await conn.flush()
    return { pid: process.pid }
  },
}, async () => {
  await nc?.drain()
})

ready({ pid: process.pid })
