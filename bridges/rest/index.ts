import Koa from 'koa'
import { Router } from '@koa/router'
import { ProxyTrust, defineBridge, type Identity } from '../../src/index.js'
import { restDeps } from './deps.js'
import { errorHandler } from './errors.js'
import { authenticate } from './authn.js'
import { dashboard } from './dashboard.js'
import { RouteTable } from './route-table.js'
import * as actors from './actors.js'
import { fastActorList } from './fast-actors.js'
import { fastInvoke } from './fast-invoke.js'
import * as chat from './chat.js'
import * as auth from './auth.js'
import * as oauth from './oauth.js'
import * as apiKeys from './api-keys.js'
import * as teams from './teams.js'
import * as components from './components.js'
import * as links from './links.js'
import * as system from './system.js'
import * as providers from './providers.js'
import * as workers from './workers.js'
import * as capsules from './capsules.js'
import * as snapshots from './snapshots.js'
import * as sessions from './sessions.js'
import * as channels from './channels.js'
import * as hosts from './hosts.js'
import { forwardRemoteCapsules } from './hosts-forward.js'
import * as plugins from './plugins.js'
import * as openapi from './openapi.js'
import * as tools from './tools.js'
import * as gateway from './gateway.js'
import { workerInvoker, serveSites } from './gateway-serve.js'

/**
 * The REST bridge: a Koa app serving every API family's declared routes, mounted as the HTTP server's request
 * handler. Wactorz routes live under `/api` (plus `/ha-map` and `/metrics`), Wrenn's and Golem's under `/v1`, the
 * OpenAPI document at `/openapi.json`. Every request is authenticated first (see authn.ts).
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
    // Every family declares its routes on one table: the router, the public-route test and the OpenAPI document
    // are all made from those declarations.
    const table = new RouteTable()
    const stops: Array<() => void> = []
    const lists = actors.actorLists(ctx.system)
    table.register(actors, { system: ctx.system, auth: ctx.auth, lists })
    table.register(chat, { system: ctx.system, publisher: ctx.actor })
    table.register(auth, { auth: ctx.auth })
    table.register(oauth, { oauth: ctx.oauth, config: ctx.config.oauth })
    table.register(apiKeys, { auth: ctx.auth })
    table.register(teams, { teams: ctx.teams, auth: ctx.auth })
    table.register(components, {
      system: ctx.system,
      components: ctx.services.components,
      links: ctx.services.links,
      auth: ctx.auth,
      maxComponentBytes: ctx.config.wasm.maxComponentBytes,
      callTimeoutMs: ctx.config.wasm.callTimeoutMs,
    })
    table.register(links, { system: ctx.system, components: ctx.services.components, links: ctx.services.links })
    table.register(providers, { system: ctx.system, auth: ctx.auth, providers: ctx.services.providers })
    table.register(workers, { workers: ctx.services.workers, plugins: ctx.services.plugins, http: ctx.http, gate: ctx.gate, onStop: (stop) => stops.push(stop) })
    table.register(gateway, { gateway: ctx.services.gateway, auth: ctx.auth })
    table.register(plugins, { plugins: ctx.services.plugins })
    const activeTeam = (who: Identity): string => ctx.auth.activeTeam(who)
    table.register(capsules, { capsules: ctx.services.capsules, remote: ctx.services.remoteCapsules, activeTeam, http: ctx.http, gate: ctx.gate, onStop: (stop) => stops.push(stop) })
    table.register(snapshots, { capsules: ctx.services.capsules, activeTeam })
    table.register(sessions, { sessions: ctx.services.sessions, activeTeam })
    table.register(channels, { channels: ctx.services.channels, activeTeam })
    table.register(hosts, { hosts: ctx.services.hosts, remote: ctx.services.remoteCapsules, activeTeam })
    table.register(system, { bus: ctx.bus, metrics: ctx.metrics, status: () => ctx.status(), onStop: (stop) => stops.push(stop) })
    table.register(openapi, { table, version: ctx.status().version })
    table.register(tools, { table })
    app.use(errorHandler(ctx.log, stats))
    app.use(authenticate(ctx.gate, (method, path) => table.isPublic(method, path)))
    app.use(dashboard())
    // A capsule that runs on a joined Colony is served by that Colony (see hosts-forward.ts).
    app.use(forwardRemoteCapsules(ctx.services.remoteCapsules, activeTeam, ctx.config.http.bodyLimitBytes))
    // One router for every family: each extra router costs a middleware layer on every request.
    const router = new Router()
    app.use(table.mount(router, ctx.config.http.bodyLimitBytes))
    app.use(router.allowedMethods())
    ctx.setStats(() => ({ requests: stats.requests }))
    const handle = app.callback()
    const fastList = fastActorList({ gate: ctx.gate, lists, log: ctx.log, stats, trustProxy: ctx.config.http.trustProxy })
    const invokeDeps = { system: ctx.system, components: ctx.services.components, callTimeoutMs: ctx.config.wasm.callTimeoutMs }
    const fastCall = fastInvoke({
      gate: ctx.gate,
      log: ctx.log,
      stats,
      trustProxy: ctx.config.http.trustProxy,
      bodyLimit: ctx.config.http.bodyLimitBytes,
      invoke: async (who, id, fn, params) => await components.invokeAndAwait(invokeDeps, who, id, fn, params),
    })
    // Deployed Worker Gateway sites first (one Map lookup on the Host header), then Colony's own API.
    const invoker = workerInvoker(ctx.services.workers)
    const serve = serveSites({ gateway: ctx.services.gateway, invoker, log: ctx.log, stats, bodyLimit: ctx.config.http.bodyLimitBytes },
      (req, res) => { if (!fastList(req, res) && !fastCall(req, res)) void handle(req, res) })
    const unmount = ctx.http.setHandler(serve)
    return async () => {
      unmount()
      for (const stop of stops.splice(0)) stop()
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
