import Koa, { type Context } from 'koa'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ColonyError, type Identity, type Logger } from '../../src/index.js'
import type { WorkerService } from '../../src/workers.js'
import { answer, type Gateway, type GatewayInvoker, type LiveSite } from '../../src/gateway.js'
import { readJson } from './body.js'
import { errorHandler } from './errors.js'

export interface GatewayServing {
  gateway: Gateway
  invoker: GatewayInvoker
  log: Logger
  stats: { requests: number }
  bodyLimit: number
}

/**
 * Deployed sites on the REST server: a request whose Host is a deployed site is answered by the site's routes
 * (public: they are the team's own API), anything else goes on to Colony's API untouched. Returns the request
 * listener to put in front of the API's.
 */
export function serveSites (o: GatewayServing, api: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  const app = new Koa()
  app.silent = true
  app.use(errorHandler(o.log, o.stats))
  app.use(async (ctx) => { await serve(ctx, o) })
  const handle = app.callback()
  return (req, res) => {
    const site = o.gateway.siteFor(req.headers.host)
    if (site === undefined) {
      api(req, res)
      return
    }
    // The site found here rides on the request into Koa (its context is made later).
    ;(req as IncomingMessage & { colonySite?: LiveSite }).colonySite = site
    void handle(req, res)
  }
}

async function serve (ctx: Context, o: GatewayServing): Promise<void> {
  const site = (ctx.req as IncomingMessage & { colonySite?: LiveSite }).colonySite as LiveSite
  const match = o.gateway.match(site, ctx.method, ctx.path)
  if (match === undefined) throw new ColonyError('api_route_not_found', `the site ${site.key} has no route for ${ctx.method} ${ctx.path.slice(0, 200)}`)
  let body: unknown
  if (match.route.readsBody && hasBody(ctx.req)) body = await readJson(ctx, o.bodyLimit)
  const query: Record<string, string> = {}
  for (const [k, v] of Object.entries(ctx.query)) if (v !== undefined) query[k] = Array.isArray(v) ? v[0] as string : v
  const out = await answer(match.route, site.teamId, { vars: match.vars, query, headers: ctx.req.headers, body }, o.invoker)
  for (const [name, value] of Object.entries(out.headers)) ctx.set(name, value)
  ctx.status = out.status
  if (out.body === undefined || ctx.method === 'HEAD') {
    // An empty body, not none: the error handler would take a bodiless 404 for "no such route".
    ctx.body = ''
    return
  }
  // A string body with a non-JSON content type the script chose goes out as it is; everything else is JSON.
  const type = out.headers['content-type'] ?? out.headers['Content-Type'] ?? Object.entries(out.headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1]
  if (typeof out.body === 'string' && type !== undefined && !/json/i.test(type)) {
    ctx.body = out.body
    ctx.type = type
  } else {
    ctx.body = JSON.stringify(out.body)
    ctx.type = 'application/json'
  }
}

function hasBody (req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined
}

/**
 * Deployed routes call durable workers, as Golem's gateway does: the binding's worker (created on first use) runs
 * the call in order with its others and records it in its oplog, as the deploying team.
 */
export function workerInvoker (workers: WorkerService): GatewayInvoker {
  return {
    async invoke (req) {
      const as: Identity | undefined = req.teamId === undefined
        ? undefined
        : { kind: 'api_key', userId: 'gateway', email: '', name: 'worker gateway', teamId: req.teamId, isAdmin: false, teams: new Set([req.teamId]) }
      try {
        const out = await workers.invoke(as, req.componentId, req.workerName, req.functionName, req.params,
          { idempotencyKey: req.idempotencyKey, await: true })
        return { value: out?.ok === true ? out.result.value[0] ?? null : null }
      } finally {
        // Golem's ephemeral worker lives for one call: its row and oplog do not pile up.
        if (req.ephemeral === true) await workers.delete(as, req.componentId, req.workerName).catch(() => undefined)
      }
    },
  }
}
