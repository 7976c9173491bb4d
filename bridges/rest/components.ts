import { Type } from '@sinclair/typebox'
import type { Context } from 'koa'
import { ColonyError, type AuthService, type Identity, type SystemApi } from '../../src/index.js'
import { checkSettings, invokeComponent, scaleComponent, type ComponentRegistry, type LinkService } from '../../src/components.js'
import { identity } from './authn.js'
import { readMultipart } from './multipart.js'
import type { Routes } from './route.js'
import { ActorInfo, Component } from './schemas.js'

export const name = 'Components'

export interface ComponentsDeps {
  system: SystemApi
  components: ComponentRegistry
  links: LinkService
  auth: AuthService
  maxComponentBytes: number
  callTimeoutMs: number
}

/** The body of `invoke-and-await` (also read by its fast path, fast-invoke.ts). */
export const InvokeBody = Type.Object({ params: Type.Optional(Type.Unknown({ description: 'the arguments, a JSON list in WIT order' })) })

/** What `invoke-and-await` answers, whichever path the request took. */
export async function invokeAndAwait (o: Pick<ComponentsDeps, 'system' | 'components' | 'callTimeoutMs'>, who: Identity, componentId: string,
  fn: string, params: unknown): Promise<{ result: unknown, function: string, stdout: string, stderr: string }> {
  const out = await invokeComponent(o.system, o.components, componentId, fn, params ?? [], { as: who, timeoutMs: o.callTimeoutMs })
  return { result: out.result, function: out.function, stdout: out.stdout, stderr: out.stderr }
}

/** The uploaded file: Golem's field is `component`. */
function componentFile (files: Record<string, Buffer>): Buffer {
  const file = files.component
  if (file === undefined || file.length === 0) throw new ColonyError('invalid_body', 'the multipart body needs a non-empty "component" file', { details: { field: 'component' } })
  return file
}

const Env = Type.Object({ env: Type.String({ description: 'an environment name (A-Z a-z 0-9 _ -, at most 64)' }) })
const ComponentRef = Type.Object({ id: Type.String({ description: 'a component id' }) })
const Upload = (withName: boolean) => Type.Object({
  ...(withName && { name: Type.String({ description: 'the component\'s name in its environment' }) }),
  component: Type.String({ contentMediaType: 'application/wasm', description: 'the WebAssembly component binary' }),
})
const Invocation = Type.Object({
  result: Type.Unknown({ description: 'the function\'s result as JSON (absent for a function without one)' }),
  function: Type.String(),
  stdout: Type.String(),
  stderr: Type.String(),
})
const INVOKE_ERRORS = ['component_not_found', 'invalid_params', 'function_not_found', 'function_ambiguous', 'invoke_timeout', 'invoke_failed',
  'wasm_memory_exceeded', 'link_missing', 'mailbox_full', 'actor_invalid_state'] as const

/**
 * Golem's component registry, plus invocation and scaling on this host. Components belong to the caller's active
 * team; other teams' components are 404.
 */
export function register (routes: Routes, o: ComponentsDeps): void {
  const { components } = o
  const readUpload = async (ctx: Context): Promise<{ fields: Record<string, string>, files: Record<string, Buffer> }> => await readMultipart(ctx, o.maxComponentBytes)

  routes.route({
    method: 'POST',
    path: '/v1/envs/{env}/components',
    summary: 'Uploads a new component (multipart: `name` and the `component` file)',
    params: Env,
    body: Upload(true),
    bodyKind: 'multipart',
    responses: { 200: { description: 'The component, revision 0', schema: Component } },
    errors: ['component_invalid', 'component_too_large', 'component_name_taken', 'forbidden', 'team_not_found', 'unsupported_media_type'],
    async handle (ctx, { params }) {
      const who = identity(ctx)
      const { fields, files } = await readUpload(ctx)
      const name = fields.name
      if (name === undefined || name === '') throw new ColonyError('invalid_body', 'the multipart body needs a "name" field', { details: { field: 'name' } })
      return await components.create(who, o.auth.activeTeam(who), params.env, name, componentFile(files))
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/envs/{env}/components',
    summary: 'The components of an environment in the caller\'s active team',
    params: Env,
    responses: { 200: { description: 'Components', schema: Type.Array(Component) } },
    errors: [],
    handle (ctx, { params }) {
      const who = identity(ctx)
      return components.list(who, who.teamId, params.env)
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/envs/{env}/components/{name}',
    summary: 'A component by its name in an environment',
    params: Type.Object({ env: Type.String(), name: Type.String() }),
    responses: { 200: { description: 'The component', schema: Component } },
    errors: ['component_not_found'],
    handle (ctx, { params }) {
      const who = identity(ctx)
      return components.byName(who, who.teamId, params.env, params.name)
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/components/{id}',
    summary: 'A component by id (its latest revision)',
    params: ComponentRef,
    responses: { 200: { description: 'The component', schema: Component } },
    errors: ['component_not_found'],
    handle: (ctx, { params }) => components.get(identity(ctx), params.id),
  })

  routes.route({
    method: 'PATCH',
    path: '/v1/components/{id}',
    summary: 'Uploads a new revision of a component (multipart: the `component` file)',
    params: ComponentRef,
    body: Upload(false),
    bodyKind: 'multipart',
    responses: { 200: { description: 'The component at its new revision', schema: Component } },
    errors: ['component_not_found', 'component_invalid', 'component_too_large', 'unsupported_media_type'],
    async handle (ctx, { params }) {
      const who = identity(ctx)
      components.visible(who, params.id)
      const { files } = await readUpload(ctx)
      return await components.update(who, params.id, componentFile(files))
    },
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/components/{id}',
    summary: 'Deletes a component, its revisions and its running instances',
    params: ComponentRef,
    responses: { 200: { description: 'Deleted', schema: Type.Object({ componentId: Type.String(), deleted: Type.Literal(true) }) } },
    errors: ['component_not_found'],
    async handle (ctx, { params }) {
      await components.remove(identity(ctx), params.id)
      return { componentId: params.id, deleted: true }
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/components/{id}/revisions/{revision}/wasm',
    summary: 'Downloads the binary of one revision',
    params: Type.Object({ id: Type.String(), revision: Type.String({ description: 'a revision number from 0' }) }),
    responses: { 200: { description: 'The component binary', type: 'application/wasm' } },
    errors: ['component_not_found', 'revision_not_found'],
    async handle (ctx, { params }) {
      const revision = Number(params.revision)
      if (!Number.isInteger(revision) || revision < 0) throw new ColonyError('revision_not_found', 'revisions are whole numbers from 0')
      ctx.body = await components.download(identity(ctx), params.id, revision)
      ctx.set('Content-Type', 'application/wasm')
      ctx.set('Content-Disposition', `attachment; filename="${params.id}-${revision}.wasm"`)
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/components/{id}/invoke-and-await',
    summary: 'Calls an exported function and waits for its result (the component is started if it is not running)',
    params: ComponentRef,
    tool: true,
    query: Type.Object({ function: Type.String({ minLength: 1, description: 'the function, e.g. add or local:adder/math.add' }) }),
    invalid: { query: 'invalid_params' },
    body: InvokeBody,
    responses: { 200: { description: 'The result and what the call wrote', schema: Invocation } },
    errors: INVOKE_ERRORS,
    async handle (ctx, { params, query, body }) {
      return await invokeAndAwait(o, identity(ctx), params.id, query.function, body.params)
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/components/{id}/scale',
    summary: 'Runs a component as an actor with N instances (0 stops it); the scale survives a restart',
    params: ComponentRef,
    body: Type.Object({
      instances: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })),
      count: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024, description: 'another name for instances' })),
      env: Type.Optional(Type.Record(Type.String(), Type.String(), { maxProperties: 64 })),
      args: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 64 })),
      filesystem: Type.Optional(Type.Boolean()),
    }),
    bodyKind: 'optional-json',
    responses: {
      200: {
        description: 'The component actor (null at 0) and the imports still waiting for a link',
        schema: Type.Object({
          componentId: Type.String(),
          instances: Type.Integer(),
          actor: Type.Union([ActorInfo, Type.Null()]),
          missingLinks: Type.Optional(Type.Array(Type.String())),
        }),
      },
    },
    errors: ['component_not_found', 'not_scaled', 'component_invalid', 'actor_limit_reached'],
    async handle (ctx, { params, body }) {
      const instances = body.instances ?? body.count
      const who = identity(ctx)
      const info = await scaleComponent(o.system, components, params.id, instances as number, { as: who, settings: checkSettings(body) })
      // Scaled without its links, the actor runs and waits for them: say which are missing.
      const record = components.visible(who, params.id)
      const missing = info === undefined ? [] : o.links.plan(record, components.get(who, record.id).metadata.imports).missing
      return { componentId: params.id, instances, actor: info ?? null, ...(missing.length > 0 && { missingLinks: missing }) }
    },
  })
}
