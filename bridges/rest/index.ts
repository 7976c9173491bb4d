import Koa from 'koa'
import { Router } from '@koa/router'
import { ProxyTrust, defineBridge } from '../../src/index.js'
import { restDeps } from './deps.js'
import { actorRoutes } from './actors.js'
import { chatRoutes } from './chat.js'
import { errorHandler } from './errors.js'
import { authenticate } from './authn.js'
import { authRoutes } from './auth.js'
import { oauthRoutes } from './oauth.js'
import { apiKeyRoutes } from './api-keys.js'
import { teamRoutes } from './teams.js'
import { componentRoutes } from './components.js'
import { linkRoutes } from './links.js'
import { systemRoutes } from './system.js'
import { dashboard } from './dashboard.js'

/**
 * The REST bridge: a Koa app with one router per API family, mounted as the HTTP server's request handler.
 * Wactorz routes live under `/api` (plus `/ha-map` and `/metrics`), Wrenn's identity routes under `/v1`. Every
 * request is authenticated first (see authn.ts for the public routes).
 */
export const restBridge = defineBridge({
  name: 'rest-bridge',
  deps: restDeps,
  async start (ctx) {
    const app = new Koa({ proxy: ctx.config.http.trustProxy })
    if (ctx.config.http.trustProxy) app.use(forwardedOnlyFrom(new ProxyTrust(true, ctx.config.http.proxyAddresses)))
    app.silent = true
    app.on('error', (err: unknown) => ctx.log.debug({ err }, 'koa error'))
    const stats = { requests: 0 }
    const limit = ctx.config.http.bodyLimitBytes
    app.use(errorHandler(ctx.log, stats))
    app.use(authenticate(ctx.gate))
    app.use(dashboard())
    // One router for every family: each extra router costs a middleware layer on every request.
    const router = new Router()
    actorRoutes(router, ctx.system, ctx.auth, limit)
    chatRoutes(router, ctx.system, ctx.actor, limit)
    authRoutes(router, ctx.auth, limit)
    oauthRoutes(router, ctx.oauth, ctx.config.oauth)
    apiKeyRoutes(router, ctx.auth, limit)
    teamRoutes(router, ctx.teams, ctx.auth, limit)
    componentRoutes(router, {
      system: ctx.system,
      components: ctx.services.components,
      links: ctx.services.links,
      auth: ctx.auth,
      bodyLimit: limit,
      maxComponentBytes: ctx.config.wasm.maxComponentBytes,
      callTimeoutMs: ctx.config.wasm.callTimeoutMs,
    })
    linkRoutes(router, ctx.system, ctx.services.components, ctx.services.links, limit)
    const stopSystem = systemRoutes(router, ctx)
    app.use(router.routes())
    app.use(router.allowedMethods())
    ctx.setStats(() => ({ requests: stats.requests }))
    const handle = app.callback()
    const unmount = ctx.http.setHandler((req, res) => { void handle(req, res) })
    return async () => {
      unmount()
      stopSystem()
    }
  },
})

/**
 * With http.trustProxy Koa believes X-Forwarded-For/-Host/-Proto (ctx.ip, ctx.host, ctx.protocol): only a peer in
 * http.proxyAddresses may send them, anyone else's are removed before anything reads them.
 */
function forwardedOnlyFrom (trust: ProxyTrust): Koa.Middleware {
  return async function forwarded (ctx, next) {
    if (!trust.trusts(ctx.req.socket.remoteAddress)) {
      for (const name of Object.keys(ctx.req.headers)) if (name.startsWith('x-forwarded-')) delete ctx.req.headers[name]
    }
    await next()
  }
}
