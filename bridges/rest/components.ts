import type { Router } from '@koa/router'
import type { Context } from 'koa'
import { ColonyError, type AuthService, type SystemApi } from '../../src/index.js'
import { checkSettings, invokeComponent, scaleComponent, type ComponentRegistry, type LinkService } from '../../src/components.js'
import { readJson, readOptionalObject, requireObject } from './body.js'
import { identity } from './authn.js'
import { readMultipart } from './multipart.js'

export interface ComponentRouteOptions {
  system: SystemApi
  components: ComponentRegistry
  links: LinkService
  auth: AuthService
  bodyLimit: number
  maxComponentBytes: number
  callTimeoutMs: number
}

/** The uploaded file: Golem's field is `component`. */
function componentFile (files: Record<string, Buffer>): Buffer {
  const file = files.component
  if (file === undefined || file.length === 0) throw new ColonyError('invalid_body', 'the multipart body needs a non-empty "component" file', { details: { field: 'component' } })
  return file
}

/**
 * Golem's component registry, plus invocation and scaling on this host. Components belong to the caller's active
 * team; other teams' components are 404.
 */
export function componentRoutes (router: Router, o: ComponentRouteOptions): void {
  const { components } = o

  router.post('/v1/envs/:env/components', async (ctx) => {
    const who = identity(ctx)
    const { fields, files } = await readMultipart(ctx, o.maxComponentBytes)
    const name = fields.name
    if (name === undefined || name === '') throw new ColonyError('invalid_body', 'the multipart body needs a "name" field', { details: { field: 'name' } })
    ctx.body = await components.create(who, o.auth.activeTeam(who), ctx.params.env as string, name, componentFile(files))
  })

  router.get('/v1/envs/:env/components', (ctx) => {
    const who = identity(ctx)
    ctx.body = components.list(who, who.teamId, ctx.params.env as string)
  })

  router.get('/v1/envs/:env/components/:name', (ctx) => {
    const who = identity(ctx)
    ctx.body = components.byName(who, who.teamId, ctx.params.env as string, ctx.params.name as string)
  })

  router.get('/v1/components/:id', (ctx) => {
    ctx.body = components.get(identity(ctx), ctx.params.id as string)
  })

  router.patch('/v1/components/:id', async (ctx) => {
    const who = identity(ctx)
    components.visible(who, ctx.params.id as string)
    const { files } = await readMultipart(ctx, o.maxComponentBytes)
    ctx.body = await components.update(who, ctx.params.id as string, componentFile(files))
  })

  router.delete('/v1/components/:id', async (ctx) => {
    await components.remove(identity(ctx), ctx.params.id as string)
    ctx.body = { componentId: ctx.params.id, deleted: true }
  })

  router.get('/v1/components/:id/revisions/:revision/wasm', async (ctx) => {
    const revision = Number(ctx.params.revision)
    if (!Number.isInteger(revision) || revision < 0) throw new ColonyError('revision_not_found', 'revisions are whole numbers from 0')
    ctx.body = await components.download(identity(ctx), ctx.params.id as string, revision)
    ctx.set('Content-Type', 'application/wasm')
    ctx.set('Content-Disposition', `attachment; filename="${ctx.params.id}-${revision}.wasm"`)
  })

  const invoke = async (ctx: Context, id: string): Promise<unknown> => {
    const fn = ctx.query.function
    if (typeof fn !== 'string' || fn === '') throw new ColonyError('invalid_params', 'the function query parameter is required (e.g. ?function=add)')
    const body = requireObject(await readJson(ctx, o.bodyLimit))
    const params = body.params ?? []
    return await invokeComponent(o.system, components, id, fn, params, { as: identity(ctx), timeoutMs: o.callTimeoutMs })
  }

  router.post('/v1/components/:id/invoke-and-await', async (ctx) => {
    const out = await invoke(ctx, ctx.params.id as string) as { result: unknown, stdout: string, stderr: string, function: string }
    ctx.body = { result: out.result, function: out.function, stdout: out.stdout, stderr: out.stderr }
  })

  router.post('/v1/components/:id/scale', async (ctx) => {
    const body = await readOptionalObject(ctx, o.bodyLimit)
    const instances = body.instances ?? body.count
    const who = identity(ctx)
    const info = await scaleComponent(o.system, components, ctx.params.id as string, instances as number, { as: who, settings: checkSettings(body) })
    // Scaled without its links, the actor runs and waits for them: say which are missing.
    const record = components.visible(who, ctx.params.id as string)
    const missing = info === undefined ? [] : o.links.plan(record, components.get(who, record.id).metadata.imports).missing
    ctx.body = { componentId: ctx.params.id, instances, actor: info ?? null, ...(missing.length > 0 && { missingLinks: missing }) }
  })
}
