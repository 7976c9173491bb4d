import type { Router } from '@koa/router'
import { ColonyError, type SystemApi } from '../../src/index.js'
import type { ComponentRegistry, LinkService } from '../../src/wasm.js'
import { readJson, requireObject } from './body.js'
import { identity } from './authn.js'

/**
 * wasmCloud links and named configs over REST (the NATS control interface writes through the same service): a link
 * makes a provider serve a component's imports. Links belong to the source component's team.
 */
export function linkRoutes (router: Router, system: SystemApi, components: ComponentRegistry, links: LinkService, bodyLimit: number): void {
  router.put('/v1/links', async (ctx) => {
    const who = identity(ctx)
    const body = requireObject(await readJson(ctx, bodyLimit))
    const text = (v: unknown): string => (typeof v === 'string' ? v : '')
    const source = components.visible(who, text(body.source_id))
    if (system.get(text(body.target), who) === undefined) {
      throw new ColonyError('actor_not_found', `no provider "${text(body.target).slice(0, 80)}" to link to`)
    }
    ctx.body = { success: true, link: links.put(body as never, source.teamId) }
  })

  router.get('/v1/links', (ctx) => {
    const who = identity(ctx)
    const source = ctx.query.source_id
    const all = typeof source === 'string' ? links.forSource(components.visible(who, source).id) : links.all().filter((l) => {
      try {
        components.visible(who, l.source_id)
        return true
      } catch {
        return false
      }
    })
    ctx.body = all.map(({ source_id, target, name, wit_namespace, wit_package, interfaces, source_config, target_config }) =>
      ({ source_id, target, name, wit_namespace, wit_package, interfaces, source_config, target_config }))
  })

  router.delete('/v1/links/:source/:namespace/:package/:name', (ctx) => {
    const who = identity(ctx)
    const source = components.visible(who, ctx.params.source as string)
    if (!links.remove(source.id, ctx.params.namespace as string, ctx.params.package as string, ctx.params.name)) {
      throw new ColonyError('route_not_found', 'no such link')
    }
    ctx.body = { success: true }
  })

  router.put('/v1/configs/:name', async (ctx) => {
    const who = identity(ctx)
    const body = requireObject(await readJson(ctx, bodyLimit))
    const existing = links.getConfig(ctx.params.name as string)
    if (existing !== undefined && existing.team !== null && !who.isAdmin && !who.teams.has(existing.team)) throw new ColonyError('forbidden', 'this config belongs to another team')
    links.putConfig(ctx.params.name as string, who.teamId, (body.entries ?? body) as Record<string, string>)
    ctx.body = { success: true }
  })

  router.get('/v1/configs/:name', (ctx) => {
    const who = identity(ctx)
    const config = links.getConfig(ctx.params.name as string)
    if (config === undefined || (config.team !== null && !who.isAdmin && !who.teams.has(config.team))) throw new ColonyError('route_not_found', 'no such config')
    ctx.body = config.entries
  })

  router.delete('/v1/configs/:name', (ctx) => {
    const who = identity(ctx)
    const config = links.getConfig(ctx.params.name as string)
    if (config === undefined || (config.team !== null && !who.isAdmin && !who.teams.has(config.team))) throw new ColonyError('route_not_found', 'no such config')
    links.removeConfig(ctx.params.name as string)
    ctx.body = { success: true }
  })
}
