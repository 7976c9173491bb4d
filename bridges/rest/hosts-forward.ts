import type { Context, Next } from 'koa'
import type { Identity } from '../../src/index.js'
import type { RemoteCapsules } from '../../src/hosts.js'
import { collect } from './body.js'

/** What a multipart file write to a remote capsule may carry (its 100 MiB limit, plus the form's framing). */
const MAX_FORWARDED_BYTES = 101 * 1024 * 1024

/**
 * Requests for a capsule that runs on a joined Colony (`/v1/capsules/{id}` and everything below it) go to that
 * Colony as they came — method, path, query, body and its type — and its answer comes back unchanged. The caller
 * must own the capsule here (its team created it through this Colony); anything else falls through to the local
 * capsule routes. The WebSockets (exec stream, PTY) are not forwarded.
 */
export function forwardRemoteCapsules (remote: RemoteCapsules, activeTeam: (who: Identity) => string, bodyLimit: number) {
  return async function forward (ctx: Context, next: Next): Promise<void> {
    const m = /^\/v1\/capsules\/([^/]+)(?:\/.*)?$/.exec(ctx.path)
    const who = ctx.state.identity as Identity | undefined
    if (m === null || who === undefined) { await next(); return }
    let id: string
    try {
      id = decodeURIComponent(m[1] as string)
    } catch {
      await next() // not an id at all: the local routes answer it
      return
    }
    if (remote.owned({ teamId: null, isAdmin: true }, id) === undefined) { await next(); return }
    const as = { teamId: activeTeam(who), isAdmin: false }
    if (remote.owned(as, id) === undefined) { await next(); return }
    const hasBody = ctx.req.headers['content-length'] !== undefined || ctx.req.headers['transfer-encoding'] !== undefined
    const multipart = ctx.get('content-type').startsWith('multipart/')
    const body = hasBody ? await collect(ctx, multipart ? MAX_FORWARDED_BYTES : bodyLimit) : undefined
    const out = await remote.forward(as, id, ctx.method, ctx.originalUrl, body, ctx.get('content-type') || undefined)
    ctx.status = out.status
    if (out.body.length > 0) {
      if (out.type !== null) ctx.type = out.type
      ctx.body = out.body
    }
  }
}
