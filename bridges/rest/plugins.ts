import { Type } from '@sinclair/typebox'
import type { PluginService } from '../../src/plugins.js'
import { identity } from './authn.js'
import type { Routes } from './route.js'
import { OneOf, StringMap } from './schemas.js'

export const name = 'Plugins'

export interface PluginsDeps {
  plugins: PluginService
}

const Kind = OneOf(['OplogProcessor', 'ComponentTransformer', 'App', 'Library'] as const)
const Url = (description: string) => Type.String({ maxLength: 2048, description })

/** One object for every kind: which fields a kind needs is checked after, naming the field (specs.componentId …). */
const Specs = Type.Object({
  type: Kind,
  componentId: Type.Optional(Type.String({ maxLength: 64, description: 'OplogProcessor: the processor component (of the same account)' })),
  componentVersion: Type.Optional(Type.Integer({ minimum: 0, description: 'OplogProcessor: the version of that component' })),
  validateUrl: Type.Optional(Url('ComponentTransformer: its validation endpoint')),
  transformUrl: Type.Optional(Url('ComponentTransformer: its transformation endpoint')),
  providedWitPackage: Type.Optional(Type.String({ maxLength: 65536 })),
  jsonSchema: Type.Optional(Type.String({ maxLength: 65536 })),
}, { description: 'what the plugin does, by type (Golem\'s plugin type specific definition)' })
const Scope = Type.Object({
  type: OneOf(['Global', 'Component'] as const),
  componentId: Type.Optional(Type.String({ maxLength: 64 })),
}, { description: 'Global: any component of the account; Component: only componentId' })

const Plugin = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  version: Type.String(),
  description: Type.String(),
  icon: Type.String(),
  homepage: Type.String(),
  specs: Specs,
  scope: Scope,
  accountId: Type.String({ description: 'the owning team' }),
  createdAt: Type.String({ format: 'date-time' }),
  deleted: Type.Boolean(),
})
const Installation = Type.Object({
  id: Type.String({ format: 'uuid' }),
  pluginId: Type.String({ format: 'uuid' }),
  name: Type.String(),
  version: Type.String(),
  priority: Type.Integer(),
  parameters: StringMap,
})
const Priority = Type.Integer({ minimum: -2147483648, maximum: 2147483647, description: 'lower runs first' })
const Parameters = Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }), { maxProperties: 64 }))
const Account = Type.Object({ account_id: Type.String({ description: 'a team id of the caller, the caller\'s user id or "me" (both: its active team)' }) })
const PluginRef = Type.Object({ id: Type.String({ description: 'a plugin id' }) })
const ComponentRef = Type.Object({ id: Type.String({ description: 'a component id' }) })
const InstallationRef = Type.Object({ id: Type.String({ description: 'a component id' }), installation_id: Type.String() })

/**
 * Golem's plugins: registered per account (a team here), installed on components, activated per worker (the worker
 * routes take an installation id). Another team's plugins, components and installations are 404.
 */
export function register (routes: Routes, { plugins }: PluginsDeps): void {
  routes.route({
    method: 'GET',
    path: '/v1/accounts/{account_id}/plugins',
    summary: 'The plugins an account registered (deleted ones left out)',
    params: Account,
    responses: { 200: { description: 'Plugins', schema: Type.Array(Plugin) } },
    errors: ['account_not_found'],
    handle: (ctx, { params }) => plugins.registry.list(identity(ctx), params.account_id),
  })

  routes.route({
    method: 'POST',
    path: '/v1/accounts/{account_id}/plugins',
    summary: 'Registers a plugin (name + version, unique in the account)',
    params: Account,
    body: Type.Object({
      name: Type.String({ maxLength: 128, description: '1 to 128 of A-Z a-z 0-9 _ . : -' }),
      version: Type.String({ maxLength: 64, description: '1 to 64 of A-Z a-z 0-9 _ . + -' }),
      description: Type.Optional(Type.String({ maxLength: 4096 })),
      icon: Type.Optional(Type.String({ maxLength: 262144, description: 'a URL or a base64 image' })),
      homepage: Type.Optional(Type.String({ maxLength: 2048, description: 'an http or https URL' })),
      specs: Specs,
      scope: Type.Optional(Scope),
    }),
    responses: { 200: { description: 'The registered plugin', schema: Plugin } },
    errors: ['account_not_found', 'component_not_found', 'revision_not_found', 'plugin_exists'],
    handle: (ctx, { params, body }) => plugins.registry.register(identity(ctx), params.account_id, body),
  })

  routes.route({
    method: 'GET',
    path: '/v1/plugins/{id}',
    summary: 'A plugin by id',
    params: PluginRef,
    responses: { 200: { description: 'The plugin', schema: Plugin } },
    errors: ['plugin_not_found'],
    handle: (ctx, { params }) => plugins.registry.get(identity(ctx), params.id),
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/plugins/{id}',
    summary: 'Deletes a plugin; its installations stay and keep working (as in Golem)',
    params: PluginRef,
    responses: { 200: { description: 'Deleted', schema: Type.Object({ pluginId: Type.String(), deleted: Type.Literal(true) }) } },
    errors: ['plugin_not_found'],
    handle (ctx, { params }) {
      plugins.registry.remove(identity(ctx), params.id)
      return { pluginId: params.id, deleted: true }
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/components/{id}/latest/plugins/installs',
    summary: 'The plugins installed on a component, lowest priority first',
    params: ComponentRef,
    responses: { 200: { description: 'Installations', schema: Type.Array(Installation) } },
    errors: ['component_not_found'],
    handle: (ctx, { params }) => plugins.installations.list(identity(ctx), params.id),
  })

  routes.route({
    method: 'POST',
    path: '/v1/components/{id}/latest/plugins/installs',
    summary: 'Installs a plugin of the component\'s account on it, by name and version',
    params: ComponentRef,
    body: Type.Object({
      name: Type.String({ maxLength: 128 }),
      version: Type.String({ maxLength: 64 }),
      priority: Priority,
      parameters: Parameters,
    }),
    responses: { 200: { description: 'The installation (its id is what workers activate)', schema: Installation } },
    errors: ['component_not_found', 'plugin_not_found', 'plugin_already_installed'],
    handle: (ctx, { params, body }) => plugins.installations.install(identity(ctx), params.id, body),
  })

  routes.route({
    method: 'PUT',
    path: '/v1/components/{id}/latest/plugins/installs/{installation_id}',
    summary: 'Changes an installation\'s priority and parameters',
    params: InstallationRef,
    body: Type.Object({ priority: Priority, parameters: Parameters }),
    responses: { 200: { description: 'The installation', schema: Installation } },
    errors: ['plugin_installation_not_found'],
    handle: (ctx, { params, body }) => plugins.installations.update(identity(ctx), params.id, params.installation_id, body),
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/components/{id}/latest/plugins/installs/{installation_id}',
    summary: 'Uninstalls a plugin from a component',
    params: InstallationRef,
    responses: { 200: { description: 'Uninstalled', schema: Type.Object({ installationId: Type.String(), deleted: Type.Literal(true) }) } },
    errors: ['plugin_installation_not_found'],
    handle (ctx, { params }) {
      plugins.installations.uninstall(identity(ctx), params.id, params.installation_id)
      return { installationId: params.installation_id, deleted: true }
    },
  })
}
