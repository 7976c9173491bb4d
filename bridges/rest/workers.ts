import { Type } from '@sinclair/typebox'
import { ColonyError, type HttpHost, type Gate } from '../../src/index.js'
import { workerFindQuery, workerListQuery, type WorkerService } from '../../src/workers.js'
import type { PluginService } from '../../src/plugins.js'
import { identity } from './authn.js'
import type { Routes } from './route.js'
import { mountConnect } from './worker-connect.js'

export const name = 'Workers'

export interface WorkersDeps {
  workers: WorkerService
  /** For the connect WebSocket: the upgrade is served beside the routes, with the same credentials. */
  http: HttpHost
  gate: Gate
  onStop: (stop: () => void) => void
  /** Finds the plugin installation a worker activates (404 plugin_installation_not_found). */
  plugins: Pick<PluginService, 'resolveInstallation'>
}

const Worker = Type.Object({ id: Type.String({ description: 'a component id' }), name: Type.String({ description: 'the worker name' }) })
const Component = Type.Object({ id: Type.String({ description: 'a component id' }) })
const WorkerId = Type.Object({ componentId: Type.String(), workerName: Type.String() })
const Status = Type.Union(['Running', 'Idle', 'Suspended', 'Interrupted', 'Retrying', 'Failed', 'Exited'].map((s) => Type.Literal(s)))
const UpdateRecord = Type.Object({
  type: Type.String(), timestamp: Type.String(), targetVersion: Type.Integer(), details: Type.Optional(Type.String()),
})
const WorkerMetadata = Type.Object({
  workerId: WorkerId,
  args: Type.Array(Type.String()),
  env: Type.Record(Type.String(), Type.String()),
  status: Status,
  componentVersion: Type.Integer(),
  retryCount: Type.Integer(),
  pendingInvocationCount: Type.Integer(),
  updates: Type.Array(UpdateRecord),
  createdAt: Type.String({ format: 'date-time' }),
  lastError: Type.Optional(Type.String()),
  componentSize: Type.Integer(),
  totalLinearMemorySize: Type.Integer(),
  ownedResources: Type.Object({}),
  activePlugins: Type.Array(Type.String()),
})
const Cursor = Type.Object({ layer: Type.Integer(), cursor: Type.Integer() })
const Params = Type.Object({
  params: Type.Optional(Type.Array(Type.Unknown(), {
    maxItems: 256,
    description: 'the arguments in WIT order: plain JSON values, or Golem typed values {typ, value}',
  })),
})
const InvokeQuery = Type.Object({ function: Type.String({ minLength: 1, maxLength: 512, description: 'e.g. increment or colony:memcounter/api.{increment}' }) })
const InvokeResult = Type.Object({
  result: Type.Object({ typ: Type.Unknown({ description: 'Golem analysed type: a Tuple of the results' }), value: Type.Array(Type.Unknown()) }),
})
const Empty = Type.Object({})
const WORKER = ['component_not_found', 'worker_not_found'] as const
const INVOKE = ['component_not_found', 'invalid_params', 'function_not_found', 'function_ambiguous', 'invalid_idempotency_key', 'invalid_worker_name',
  'invoke_timeout', 'invoke_failed', 'wasm_memory_exceeded', 'link_missing', 'worker_failed', 'worker_exited', 'worker_interrupted',
  'worker_not_ready', 'replay_diverged', 'store_failed', 'mailbox_full', 'actor_limit_reached'] as const

const idempotencyKey = (ctx: { get (h: string): string }): string | undefined => {
  const v = ctx.get('idempotency-key')
  return v === '' ? undefined : v
}

/** A non-negative integer from the query, or the given code. */
function whole (value: string | undefined, field: string, code: 'invalid_count' | 'invalid_query', min = 0): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new ColonyError(code, `${field} must be a whole number from ${min}`, { details: { field } })
  }
  return n
}

/**
 * Golem's durable workers (`/v1/components/{id}/workers/...`): create, list, metadata, delete, invoke (and await),
 * interrupt, resume, update, oplog, connect, plugin (de)activation. A worker belongs to its component's team;
 * another team's component and its workers are 404. The `Idempotency-Key` header makes an invocation exactly-once.
 */
export function register (routes: Routes, { workers, http, gate, onStop, plugins }: WorkersDeps): void {
  routes.route({
    method: 'POST',
    path: '/v1/components/{id}/workers',
    summary: 'Launches a new worker (Idle, at the component\'s latest version); its Create entry is durable when this answers',
    params: Component,
    body: Type.Object({
      name: Type.String({ minLength: 1, maxLength: 128 }),
      args: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 64 })),
      env: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 4096 }), { maxProperties: 64 })),
    }),
    responses: { 200: { description: 'The worker id and version', schema: Type.Object({ workerId: WorkerId, componentVersion: Type.Integer() }) } },
    errors: ['component_not_found', 'worker_already_exists', 'invalid_worker_name'],
    handle: async (ctx, { params, body }) => await workers.create(identity(ctx), params.id, body),
  })

  routes.route({
    method: 'GET',
    path: '/v1/components/{id}/workers',
    summary: 'Worker metadata, a page at a time (Golem\'s filters: `name = x`, `status == Idle`, `version >= 1`, `env.K = v`, `createdAt > …`; several are ANDed)',
    params: Component,
    tool: true,
    query: Type.Object({
      filter: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Array(Type.String({ maxLength: 512 }), { maxItems: 16 })])),
      cursor: Type.Optional(Type.String({ maxLength: 64, description: 'the previous page\'s cursor as <layer>/<cursor>' })),
      count: Type.Optional(Type.String({ maxLength: 16, description: 'page size, 1 to 1000 (default 50)' })),
      precise: Type.Optional(Type.String({ maxLength: 8 })),
    }),
    responses: { 200: { description: 'A page of workers; no cursor: the last page', schema: Type.Object({ workers: Type.Array(WorkerMetadata), cursor: Type.Optional(Cursor) }) } },
    errors: ['component_not_found', 'invalid_filter', 'invalid_cursor', 'invalid_count'],
    handle: (ctx, { params, query }) => workers.list(identity(ctx), params.id, workerListQuery({
      ...(query.filter !== undefined && { filter: query.filter }),
      ...(query.cursor !== undefined && { cursor: query.cursor }),
      ...(query.count !== undefined && { count: query.count }),
    })),
  })

  routes.route({
    method: 'POST',
    path: '/v1/components/{id}/workers/find',
    summary: 'Worker metadata matching Golem\'s JSON filter ({type: And|Or|Not|Name|Status|Version|Env|CreatedAt, ...}), a page at a time',
    params: Component,
    body: Type.Object({
      filter: Type.Optional(Type.Unknown({ description: 'Golem\'s WorkerFilter, tagged by type; null: every worker' })),
      cursor: Type.Optional(Type.Unknown({ description: 'the previous page\'s {layer, cursor}' })),
      count: Type.Optional(Type.Unknown({ description: 'page size, 1 to 1000 (default 50)' })),
      precise: Type.Optional(Type.Boolean()),
    }),
    responses: { 200: { description: 'A page of workers; no cursor: the last page', schema: Type.Object({ workers: Type.Array(WorkerMetadata), cursor: Type.Optional(Cursor) }) } },
    errors: ['component_not_found', 'invalid_filter', 'invalid_cursor', 'invalid_count'],
    handle: (ctx, { params, body }) => workers.list(identity(ctx), params.id, workerFindQuery(body)),
  })

  routes.route({
    method: 'GET',
    path: '/v1/components/{id}/workers/{name}',
    summary: 'A worker\'s metadata (status, version, pending invocations, updates, last error)',
    params: Worker,
    tool: true,
    responses: { 200: { description: 'The worker', schema: WorkerMetadata } },
    errors: WORKER,
    handle: async (ctx, { params }) => await workers.get(identity(ctx), params.id, params.name),
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/components/{id}/workers/{name}',
    summary: 'Interrupts a worker and deletes it with its oplog',
    params: Worker,
    responses: { 200: { description: 'Deleted', schema: Empty } },
    errors: WORKER,
    async handle (ctx, { params }) {
      await workers.delete(identity(ctx), params.id, params.name)
      return {}
    },
  })

  for (const wait of [true, false]) {
    routes.route({
      method: 'POST',
      path: `/v1/components/{id}/workers/{name}/${wait ? 'invoke-and-await' : 'invoke'}`,
      summary: wait
        ? 'Invokes a function and waits for its result, a Tuple (the worker is created if it does not exist; header Idempotency-Key: exactly once)'
        : 'Enqueues an invocation and answers once it is durable (header Idempotency-Key: exactly once)',
      params: Worker,
      tool: {
        description: wait
          ? 'Invokes a function of a durable worker and waits for its result, a Tuple (the worker is created if it does not exist)'
          : 'Enqueues an invocation on a durable worker and answers once it is durable; it runs in order, also after a crash',
      },
      query: InvokeQuery,
      invalid: { query: 'invalid_params' },
      body: Params,
      responses: { 200: wait ? { description: 'The result', schema: InvokeResult } : { description: 'Enqueued', schema: Empty } },
      errors: INVOKE,
      async handle (ctx, { params, query, body }) {
        const out = await workers.invoke(identity(ctx), params.id, params.name, query.function, body.params ?? [],
          { idempotencyKey: idempotencyKey(ctx), await: wait })
        return wait && out?.ok === true ? { result: out.result } : {}
      },
    })
  }

  routes.route({
    method: 'POST',
    path: '/v1/components/{id}/workers/{name}/interrupt',
    summary: 'Interrupts a running worker (it stays Interrupted until resumed or invoked); ?recovery-immediately=true simulates a crash and recovers at once',
    params: Worker,
    tool: true,
    query: Type.Object({ 'recovery-immediately': Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }),
    responses: { 200: { description: 'Interrupted', schema: Empty } },
    errors: [...WORKER, 'replay_diverged'],
    async handle (ctx, { params, query }) {
      await workers.interrupt(identity(ctx), params.id, params.name, query['recovery-immediately'] === 'true')
      return {}
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/components/{id}/workers/{name}/resume',
    summary: 'Resumes a Suspended, Interrupted or Idle worker (409 worker_not_resumable otherwise)',
    params: Worker,
    tool: true,
    responses: { 200: { description: 'Resumed', schema: Empty } },
    errors: [...WORKER, 'worker_not_resumable', 'worker_not_ready', 'actor_limit_reached'],
    async handle (ctx, { params }) {
      await workers.resume(identity(ctx), params.id, params.name)
      return {}
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/components/{id}/workers/{name}/update',
    summary: 'Updates a worker to another version: Automatic replays its oplog on it (reverting on divergence), Manual moves a snapshot',
    params: Worker,
    body: Type.Object({
      mode: Type.Union([Type.Literal('Automatic'), Type.Literal('Manual')]),
      targetVersion: Type.Integer({ minimum: 0 }),
    }),
    responses: { 200: { description: 'The update is queued (see the worker\'s updates)', schema: Empty } },
    errors: [...WORKER, 'revision_not_found', 'invalid_update', 'update_not_supported', 'worker_failed', 'worker_exited', 'worker_not_ready', 'actor_limit_reached'],
    async handle (ctx, { params, body }) {
      await workers.update(identity(ctx), params.id, params.name, body.mode, body.targetVersion)
      return {}
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/components/{id}/workers/{name}/oplog',
    summary: 'A page of the worker\'s oplog from an index (Golem\'s shape: entries, next, firstIndexInChunk, lastIndex)',
    params: Worker,
    tool: true,
    query: Type.Object({
      from: Type.Optional(Type.String({ maxLength: 16, description: 'the first oplog index (from 1)' })),
      count: Type.String({ maxLength: 16, description: 'entries per page, 1 to 1000' }),
      cursor: Type.Optional(Type.String({ maxLength: 64, description: 'the previous page\'s next, as <nextOplogIndex>-<componentVersion>' })),
    }),
    invalid: { query: 'invalid_count' },
    responses: {
      200: {
        description: 'Entries',
        schema: Type.Object({
          entries: Type.Array(Type.Object({ oplogIndex: Type.Integer(), entry: Type.Unknown() })),
          next: Type.Optional(Type.Object({ nextOplogIndex: Type.Integer(), currentComponentVersion: Type.Integer() })),
          firstIndexInChunk: Type.Integer(),
          lastIndex: Type.Integer(),
        }),
      },
    },
    errors: [...WORKER, 'invalid_cursor', 'invalid_query'],
    handle: async (ctx, { params, query }) => await workers.oplog(identity(ctx), params.id, params.name, {
      from: whole(query.from, 'from', 'invalid_query'),
      count: whole(query.count, 'count', 'invalid_count', 1) as number,
      cursor: query.cursor,
    }),
  })

  for (const activate of [true, false]) {
    routes.route({
      method: 'POST',
      path: `/v1/components/{id}/workers/{name}/${activate ? 'activate-plugin' : 'deactivate-plugin'}`,
      summary: activate
        ? 'Activates one of the component\'s plugin installations on the worker (recorded in its oplog as ActivatePlugin)'
        : 'Deactivates a plugin installation on the worker (recorded in its oplog as DeactivatePlugin)',
      params: Worker,
      query: Type.Object({ 'plugin-installation-id': Type.String({ minLength: 1, maxLength: 128 }) }),
      responses: { 200: { description: activate ? 'Activated' : 'Deactivated', schema: Empty } },
      errors: [...WORKER, 'plugin_installation_not_found', 'worker_failed', 'worker_exited', 'worker_not_ready', 'actor_limit_reached'],
      async handle (ctx, { params, query }) {
        const as = identity(ctx)
        const installation = plugins.resolveInstallation(as, params.id, query['plugin-installation-id'])
        await workers.plugin(as, params.id, params.name, activate, {
          installationId: installation.installationId, pluginName: installation.name, pluginVersion: installation.version, parameters: installation.parameters,
        })
        return {}
      },
    })
  }

  routes.route({
    method: 'GET',
    path: '/v1/components/{id}/workers/{name}/connect',
    summary: 'A WebSocket of the worker\'s events (StdOut, StdErr, Log, InvocationStart, InvocationFinished), the last 128 first',
    params: Worker,
    responses: { 101: { description: 'Switching to the WebSocket' } },
    errors: [...WORKER, 'upgrade_required'],
    async handle (ctx, { params }) {
      await workers.connect(identity(ctx), params.id, params.name)
      throw new ColonyError('upgrade_required', 'connect is a WebSocket: send Upgrade: websocket')
    },
  })
  onStop(mountConnect({ http, gate, workers }))
}
