import type { Router } from '@koa/router'
import { canAccess, ColonyError, type SystemApi } from '../../src/index.js'
import type { ComponentRegistry, Link, LinkService } from '../../src/components.js'
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

  // A link belongs to its source component's team, or to no team (put over NATS for a component this host does not
  // have): those are the lattice's and everyone may read them. `source_id` may name a component (then its links under
  // any of its names) or be a lattice id as is.
  router.get('/v1/links', (ctx) => {
    const who = identity(ctx)
    const source = ctx.query.source_id
    let all: Array<Link & { team: string | null }>
    if (typeof source !== 'string') all = links.all()
    else {
      let record
      try {
        record = components.visible(undefined, source)
      } catch {
        record = undefined
      }
      // Another team's component does not exist for the caller (404), as everywhere else.
      if (record !== undefined) components.visible(who, source)
      const sources = record === undefined ? new Set([source]) : links.sourcesOf(record)
      all = links.all().filter((l) => sources.has(l.source_id))
    }
    ctx.body = all.filter((l) => canAccess(who, l.team)).map(({ source_id, target, name, wit_namespace, wit_package, interfaces, source_config, target_config }) =>
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
