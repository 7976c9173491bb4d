import { Type } from '@sinclair/typebox'
import { canAccess, ColonyError, type Identity, type SystemApi } from '../../src/index.js'
import type { ComponentRegistry, Link, LinkService } from '../../src/components.js'
import { identity } from './authn.js'
import type { Routes } from './route.js'
import { ConfigEntries, Link as LinkSchema, Success } from './schemas.js'

export const name = 'Links'

export interface LinksDeps {
  system: SystemApi
  components: ComponentRegistry
  links: LinkService
}

const Part = (description: string) => Type.String({ description: `${description}: 1 to 128 characters of A-Z a-z 0-9 _ . : -` })
const Names = Type.Array(Type.String(), { maxItems: 64 })
const LinkBody = Type.Object({
  source_id: Part('the component (id, name or lattice id) whose imports the link serves'),
  target: Part('the provider actor'),
  name: Type.Optional(Part('the link name (default "default")')),
  wit_namespace: Part('e.g. wasi'),
  wit_package: Part('e.g. keyvalue'),
  interfaces: Type.Array(Type.String(), { minItems: 1, maxItems: 64, description: 'e.g. ["store"]' }),
  source_config: Type.Optional(Names),
  target_config: Type.Optional(Names),
})
const ConfigRef = Type.Object({ name: Type.String() })

/**
 * wasmCloud links and named configs over REST (the NATS control interface writes through the same service): a link
 * makes a provider serve a component's imports. Links belong to the source component's team.
 */
export function register (routes: Routes, { system, components, links }: LinksDeps): void {
  /** A named config the caller may see, or 404 (another team's config does not exist for them). */
  const visibleConfig = (who: Identity, name: string): { entries: Record<string, string> } => {
    const config = links.getConfig(name)
    if (config === undefined || !canAccess(who, config.team)) throw new ColonyError('route_not_found', 'no such config')
    return config
  }

  routes.route({
    method: 'PUT',
    path: '/v1/links',
    summary: 'Puts a link: the target provider serves these interfaces of the source component',
    body: LinkBody,
    responses: { 200: { description: 'The stored link', schema: Type.Object({ success: Type.Literal(true), link: LinkSchema }) } },
    errors: ['component_not_found', 'actor_not_found'],
    handle (ctx, { body }) {
      const who = identity(ctx)
      const source = components.visible(who, body.source_id)
      if (system.get(body.target, who) === undefined) {
        throw new ColonyError('actor_not_found', `no provider "${body.target.slice(0, 80)}" to link to`)
      }
      return { success: true, link: links.put(body as Link, source.teamId) }
    },
  })

  // A link belongs to its source component's team, or to no team (put over NATS for a component this host does not
  // have): those are the lattice's and everyone may read them. `source_id` may name a component (then its links under
  // any of its names) or be a lattice id as is.
  routes.route({
    method: 'GET',
    path: '/v1/links',
    summary: 'The links the caller may see, or those of one source',
    query: Type.Object({ source_id: Type.Optional(Type.String()) }),
    responses: { 200: { description: 'Links', schema: Type.Array(LinkSchema) } },
    errors: ['component_not_found'],
    handle (ctx, { query }) {
      const who = identity(ctx)
      const source = query.source_id
      let all: Array<Link & { team: string | null }>
      if (source === undefined) all = links.all()
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
      return all.filter((l) => canAccess(who, l.team)).map(({ source_id, target, name, wit_namespace, wit_package, interfaces, source_config, target_config }) =>
        ({ source_id, target, name, wit_namespace, wit_package, interfaces, source_config, target_config }))
    },
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/links/{source}/{namespace}/{package}/{name}',
    summary: 'Deletes a link',
    params: Type.Object({ source: Type.String(), namespace: Type.String(), package: Type.String(), name: Type.String() }),
    responses: { 200: { description: 'Deleted', schema: Success } },
    errors: ['component_not_found', 'route_not_found'],
    handle (ctx, { params }) {
      const source = components.visible(identity(ctx), params.source)
      if (!links.remove(source.id, params.namespace, params.package, params.name)) throw new ColonyError('route_not_found', 'no such link')
      return { success: true }
    },
  })

  routes.route({
    method: 'PUT',
    path: '/v1/configs/{name}',
    summary: 'Puts a named config (string entries) links can refer to',
    params: ConfigRef,
    // Either `{entries: {...}}` or the entries themselves: one object schema accepts both.
    body: Type.Object({ entries: Type.Optional(ConfigEntries) }, { additionalProperties: Type.String(), description: '`{"entries": {...}}` or the string entries themselves' }),
    responses: { 200: { description: 'Stored', schema: Success } },
    errors: ['forbidden'],
    handle (ctx, { params, body }) {
      const who = identity(ctx)
      const existing = links.getConfig(params.name)
      if (existing !== undefined && !canAccess(who, existing.team)) throw new ColonyError('forbidden', 'this config belongs to another team')
      links.putConfig(params.name, who.teamId, ((body as { entries?: unknown }).entries ?? body) as Record<string, string>)
      return { success: true }
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/configs/{name}',
    summary: 'A named config\'s entries',
    params: ConfigRef,
    responses: { 200: { description: 'The entries', schema: ConfigEntries } },
    errors: ['route_not_found'],
    handle: (ctx, { params }) => visibleConfig(identity(ctx), params.name).entries,
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/configs/{name}',
    summary: 'Deletes a named config',
    params: ConfigRef,
    responses: { 200: { description: 'Deleted', schema: Success } },
    errors: ['route_not_found'],
    handle (ctx, { params }) {
      visibleConfig(identity(ctx), params.name)
      links.removeConfig(params.name)
      return { success: true }
    },
  })
}
