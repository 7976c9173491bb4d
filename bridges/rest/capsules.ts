import { Type } from '@sinclair/typebox'
import { ColonyError } from '../../src/index.js'
import { listDir, makeDir, MAX_FILE_BYTES, readFile, readFileStream, removePath, writeFile, writeFileStream, type CapsuleCaller, type CapsuleService } from '../../src/capsules.js'
import type { RemoteCapsules } from '../../src/hosts.js'
import busboy from 'busboy'
import type { Context } from 'koa'
import type { Readable } from 'node:stream'
import type { EventActor, Gate, HttpHost, Identity } from '../../src/index.js'
import { mountCapsuleStreams } from './capsule-streams.js'
import { identity } from './authn.js'
import { readMultipart } from './multipart.js'
import type { Routes } from './route.js'

export const name = 'Capsules'

export interface CapsulesDeps {
  capsules: CapsuleService
  /** Capsules on joined Colonies (`host_id`), listed and created through this one. */
  remote: RemoteCapsules
  /** The team a request acts for (a capsule belongs to the caller's active team). */
  activeTeam: (who: Identity) => string
  /** For the exec-stream and PTY WebSockets, served beside the routes with the same credentials. */
  http: HttpHost
  gate: Gate
  onStop: (stop: () => void) => void
}

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'a capsule id (cl-…)' }) })
const Status = Type.Union(['pending', 'running', 'paused', 'hibernated', 'missing', 'error'].map((s) => Type.Literal(s)))
const Capsule = Type.Object({
  id: Type.String(),
  status: Status,
  template: Type.String(),
  vcpus: Type.Integer(),
  memory_mb: Type.Integer(),
  timeout_sec: Type.Integer(),
  network: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  started_at: Type.Optional(Type.String({ format: 'date-time' })),
  last_active_at: Type.Optional(Type.String({ format: 'date-time' })),
  last_updated: Type.String({ format: 'date-time' }),
  reason: Type.Optional(Type.String()),
  host_id: Type.Optional(Type.String({ description: 'the joined Colony (a Wrenn host) the capsule runs on; absent: this one' })),
})
const Env = Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.String({ maxLength: 32_768 }), { maxProperties: 256 })
const ExecResult = Type.Object({
  sandbox_id: Type.String(),
  cmd: Type.String(),
  stdout: Type.String(),
  stderr: Type.String(),
  exit_code: Type.Integer(),
  duration_ms: Type.Integer(),
  encoding: Type.Union([Type.Literal('utf-8'), Type.Literal('base64')]),
  timed_out: Type.Boolean(),
  truncated: Type.Boolean(),
})
const FileEntry = Type.Object({
  name: Type.String(),
  path: Type.String(),
  type: Type.Union(['file', 'directory', 'symlink', 'other'].map((s) => Type.Literal(s))),
  size: Type.Integer(),
  mode: Type.Integer(),
  permissions: Type.String(),
  owner: Type.String(),
  group: Type.String(),
  modified_at: Type.Integer(),
  symlink_target: Type.Optional(Type.String()),
})
const PathBody = Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096, description: 'a path inside the capsule (relative: from the user\'s home)' }) })
const CAPSULE = ['capsule_not_found'] as const
const RUNNING = ['capsule_not_found', 'capsule_not_running', 'capsule_exec_failed'] as const

/** Who a capsule request acts for: the caller's active team (capsules, snapshots and sessions alike). */
export function capsuleCaller (ctx: Context, activeTeam: (who: Identity) => string): CapsuleCaller {
  const who = identity(ctx)
  return { teamId: activeTeam(who), isAdmin: false, actor: eventActor(who) }
}

/** Who did it, as Wrenn's events name them: a user, an API key, or (development mode without credentials) the system. */
export function eventActor (who: Identity): EventActor {
  if (who.kind === 'api_key') return { type: 'api_key', ...(who.keyId !== undefined && { id: who.keyId }) }
  if (who.kind === 'user') return { type: 'user', id: who.userId, name: who.name }
  return { type: 'system' }
}

/**
 * Wrenn's capsules (`/v1/capsules`): sandboxes on this host that the caller's team owns — create, list, get,
 * destroy, pause (frozen), hibernate (stopped, files kept), resume, ping, exec, files. Another team's capsule is 404.
 */
export function register (routes: Routes, { capsules, remote, activeTeam, http, gate, onStop }: CapsulesDeps): void {
  const caller = (ctx: Context): CapsuleCaller => capsuleCaller(ctx, activeTeam)

  routes.route({
    method: 'POST',
    path: '/v1/capsules',
    summary: 'Creates a capsule (a sandbox: namespaces, a copy-on-write root, cgroup limits, no network unless asked) and starts it',
    tool: { name: 'create_capsule' },
    body: Type.Object({
      template: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '"minimal" (default) or a snapshot\'s name' })),
      vcpus: Type.Optional(Type.Integer({ description: 'CPU quota in cores (default 1; 0 or less: the default)' })),
      memory_mb: Type.Optional(Type.Integer({ description: 'memory limit (default 512; a process over it is OOM-killed)' })),
      timeout_sec: Type.Optional(Type.Integer({ description: 'pause after this long without activity (default 0: never)' })),
      network: Type.Optional(Type.Boolean({ description: 'share the host\'s network (default false: loopback only)' })),
      envs: Type.Optional(Env),
      host_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a joined Colony (GET /v1/hosts, colony: true) to run it on; default this one' })),
    }, { additionalProperties: false }),
    bodyKind: 'optional-json',
    status: 201,
    responses: { 201: { description: 'The capsule, running', schema: Capsule } },
    errors: ['team_not_found', 'template_not_found', 'capsule_unavailable', 'capsule_start_failed', 'host_not_found', 'host_unavailable'],
    async handle (ctx, { body }) {
      const { host_id: hostId, ...spec } = body
      if (hostId === undefined) return await capsules.create(caller(ctx), spec)
      // The joined Colony answers; its errors come back as it gave them.
      const out = await remote.create(caller(ctx), hostId, spec)
      ctx.status = out.status
      ctx.body = out.body
      return undefined
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/capsules',
    summary: 'The team\'s capsules',
    tool: { name: 'list_capsules' },
    responses: { 200: { description: 'Capsules', schema: Type.Array(Capsule) } },
    errors: ['team_not_found'],
    handle: async (ctx) => [...capsules.list(caller(ctx)), ...await remote.list(caller(ctx))],
  })

  routes.route({
    method: 'GET',
    path: '/v1/capsules/stats',
    summary: 'The team\'s capsules: now (running, paused, reserved vCPUs and memory; a paused one counts half its memory), peaks over 30 days, a series (MAX per bucket), each capsule\'s latest sample',
    query: Type.Object({ range: Type.Optional(Type.String({ maxLength: 8, description: '5m (default, 3 s buckets), 1h (30 s), 6h (3 min), 24h (12 min) or 30d (6 h)' })) }),
    responses: {
      200: {
        description: 'Team stats',
        schema: Type.Object({
          current: Type.Object({ running_count: Type.Integer(), paused_count: Type.Integer(), vcpus_reserved: Type.Integer(), memory_mb_reserved: Type.Integer() }),
          peaks: Type.Object({ running_count: Type.Integer(), vcpus: Type.Integer(), memory_mb: Type.Integer() }),
          series: Type.Object({ labels: Type.Array(Type.String()), running: Type.Array(Type.Integer()), vcpus: Type.Array(Type.Integer()), memory_mb: Type.Array(Type.Integer()) }),
          capsules: Type.Array(Type.Object({ id: Type.String(), status: Status, cpu_pct: Type.Number(), mem_bytes: Type.Integer(), disk_bytes: Type.Integer() })),
        }),
      },
    },
    errors: ['team_not_found'],
    handle: (ctx, { query }) => capsules.teamStats(caller(ctx), query.range),
  })

  routes.route({
    method: 'GET',
    path: '/v1/capsules/{id}/metrics',
    summary: 'CPU, memory and disk samples: 500 ms for the last 10 min, 30 s averages for 2 h, 5 min averages for 24 h (kept while paused)',
    params: Id,
    query: Type.Object({ range: Type.Optional(Type.String({ maxLength: 8, description: '5m, 10m (default), 1h, 2h, 6h, 12h or 24h' })) }),
    responses: {
      200: {
        description: 'Points, oldest first',
        schema: Type.Object({
          sandbox_id: Type.String(), range: Type.String(),
          points: Type.Array(Type.Object({ timestamp_unix: Type.Integer(), cpu_pct: Type.Number(), mem_bytes: Type.Integer(), disk_bytes: Type.Integer() })),
        }),
      },
    },
    errors: ['team_not_found', ...CAPSULE],
    handle: (ctx, { params, query }) => capsules.metricsFor(caller(ctx), params.id, query.range),
  })

  routes.route({
    method: 'GET',
    path: '/v1/capsules/{id}',
    summary: 'One capsule',
    tool: { name: 'get_capsule' },
    params: Id,
    responses: { 200: { description: 'The capsule', schema: Capsule } },
    errors: ['team_not_found', ...CAPSULE],
    handle: (ctx, { params }) => capsules.get(caller(ctx), params.id),
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/capsules/{id}',
    summary: 'Destroys a capsule: every process stops, its files go',
    tool: { name: 'destroy_capsule' },
    params: Id,
    status: 204,
    responses: { 204: { description: 'Destroyed' } },
    errors: ['team_not_found', ...CAPSULE],
    async handle (ctx, { params }) {
      await capsules.destroy(caller(ctx), params.id)
    },
  })

  const transitions = [
    ['pause', 'Freezes every process of a running capsule (memory kept, no CPU)'],
    ['resume', 'Thaws a paused capsule, or starts a hibernated or missing one again (its files kept)'],
    ['hibernate', 'Stops every process of a running or paused capsule; its files stay'],
  ] as const
  for (const [op, summary] of transitions) {
    routes.route({
      method: 'POST',
      path: `/v1/capsules/{id}/${op}`,
      summary,
      tool: { name: `${op}_capsule` },
      params: Id,
      responses: { 200: { description: 'The capsule', schema: Capsule } },
      errors: ['team_not_found', ...CAPSULE, 'capsule_invalid_state', 'capsule_unavailable'],
      handle: async (ctx, { params }) => await capsules[op](caller(ctx), params.id),
    })
  }

  routes.route({
    method: 'POST',
    path: '/v1/capsules/{id}/ping',
    summary: 'Counts as activity: the capsule\'s inactivity timeout starts again',
    tool: { name: 'ping_capsule' },
    params: Id,
    status: 204,
    responses: { 204: { description: 'Noted' } },
    errors: ['team_not_found', ...CAPSULE, 'capsule_not_running'],
    handle (ctx, { params }) {
      capsules.ping(caller(ctx), params.id)
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/capsules/{id}/exec',
    summary: 'Runs a command in the capsule and waits for it (argv, no shell: use cmd "/bin/sh" with args ["-c", …] for one); the process tree is killed at timeout_sec',
    tool: { name: 'capsule_exec' },
    params: Id,
    body: Type.Object({
      cmd: Type.String({ minLength: 1, maxLength: 4096 }),
      args: Type.Optional(Type.Array(Type.String({ maxLength: 131_072 }), { maxItems: 4096 })),
      timeout_sec: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, description: 'default 30' })),
      envs: Type.Optional(Env),
      cwd: Type.Optional(Type.String({ maxLength: 4096 })),
      background: Type.Optional(Type.Boolean({ description: 'start it and answer 202 at once; it runs on until it exits' })),
      tag: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'a background process\'s tag (default proc-<8 hex>)' })),
    }, { additionalProperties: false }),
    responses: {
      200: { description: 'Its output (both streams base64 when either is not UTF-8), exit code and duration', schema: ExecResult },
      202: { description: 'A background process started', schema: Type.Object({ sandbox_id: Type.String(), cmd: Type.String(), pid: Type.Integer(), tag: Type.String() }) },
    },
    errors: ['team_not_found', ...RUNNING],
    async handle (ctx, { params, body }) {
      if (body.background === true) {
        ctx.status = 202
        ctx.body = capsules.background(caller(ctx), params.id, body)
        return undefined
      }
      return await capsules.exec(caller(ctx), params.id, body)
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/capsules/{id}/processes',
    summary: 'The capsule\'s background processes (started with exec background: true)',
    tool: { name: 'capsule_processes' },
    params: Id,
    responses: { 200: { description: 'Processes', schema: Type.Object({ processes: Type.Array(Type.Object({ pid: Type.Integer(), tag: Type.String(), cmd: Type.String(), args: Type.Array(Type.String()) })) }) } },
    errors: ['team_not_found', ...CAPSULE],
    handle: (ctx, { params }) => capsules.processes(caller(ctx), params.id),
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/capsules/{id}/processes/{selector}',
    summary: 'Kills a background process and its tree, by pid (digits) or tag; SIGKILL unless ?signal=SIGTERM',
    params: Type.Object({ id: Id.properties.id, selector: Type.String({ minLength: 1, maxLength: 64 }) }),
    query: Type.Object({ signal: Type.Optional(Type.Union([Type.Literal('SIGKILL'), Type.Literal('SIGTERM')])) }),
    status: 204,
    responses: { 204: { description: 'Signalled' } },
    errors: ['team_not_found', ...CAPSULE, 'process_not_found'],
    handle (ctx, { params, query }) {
      capsules.killProcess(caller(ctx), params.id, params.selector, query.signal)
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/capsules/{id}/files/write',
    summary: 'Writes a file (multipart: `path` and the `file`, at most 100 MiB); parent directories are created',
    params: Id,
    body: Type.Object({ path: Type.String(), file: Type.String({ format: 'binary' }) }),
    bodyKind: 'multipart',
    status: 204,
    responses: { 204: { description: 'Written' } },
    errors: ['team_not_found', ...RUNNING, 'file_too_large', 'file_invalid', 'unsupported_media_type'],
    async handle (ctx, { params }) {
      const sandbox = capsules.running(caller(ctx), params.id)
      const { fields, files } = await readMultipart(ctx, MAX_FILE_BYTES, 'file_too_large')
      const path = fields.path
      const file = files.file
      if (path === undefined || path === '') throw new ColonyError('invalid_body', 'the multipart body needs a "path" field', { details: { field: 'path' } })
      if (file === undefined) throw new ColonyError('invalid_body', 'the multipart body needs a "file"', { details: { field: 'file' } })
      await writeFile(sandbox, path, file)
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/capsules/{id}/files/stream/write',
    summary: 'Writes a file of any size as it is uploaded (multipart: the `path` field, then the `file`)',
    params: Id,
    body: Type.Object({ path: Type.String(), file: Type.String({ format: 'binary' }) }),
    bodyKind: 'multipart',
    status: 204,
    responses: { 204: { description: 'Written' } },
    errors: ['team_not_found', ...RUNNING, 'file_invalid', 'unsupported_media_type'],
    async handle (ctx, { params }) {
      const sandbox = capsules.running(caller(ctx), params.id)
      await streamUpload(ctx, async (path, file) => { await writeFileStream(sandbox, path, file) })
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/capsules/{id}/files/stream/read',
    summary: 'A file of any size, sent as it is read (application/octet-stream, chunked)',
    params: Id,
    body: PathBody,
    responses: { 200: { description: 'The bytes', type: 'application/octet-stream' } },
    errors: ['team_not_found', ...RUNNING, 'file_not_found', 'file_invalid'],
    async handle (ctx, { params, body }) {
      const stream = await readFileStream(capsules.running(caller(ctx), params.id), body.path)
      ctx.type = 'application/octet-stream'
      ctx.body = stream
      return undefined
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/capsules/{id}/files/read',
    summary: 'A file\'s bytes (application/octet-stream)',
    tool: { name: 'capsule_read_file' },
    params: Id,
    body: PathBody,
    responses: { 200: { description: 'The bytes', type: 'application/octet-stream' } },
    errors: ['team_not_found', ...RUNNING, 'file_not_found', 'file_invalid', 'file_too_large'],
    async handle (ctx, { params, body }) {
      const bytes = await readFile(capsules.running(caller(ctx), params.id), body.path)
      ctx.type = 'application/octet-stream'
      ctx.body = bytes
      return undefined
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/capsules/{id}/files/list',
    summary: 'The entries under a directory, down to `depth` levels (default 1), links not followed',
    tool: { name: 'capsule_list_files' },
    params: Id,
    body: Type.Object({ path: PathBody.properties.path, depth: Type.Optional(Type.Integer({ minimum: 0, maximum: 32 })) }),
    responses: { 200: { description: 'Entries', schema: Type.Object({ entries: Type.Array(FileEntry) }) } },
    errors: ['team_not_found', ...RUNNING, 'file_not_found', 'file_invalid'],
    handle: async (ctx, { params, body }) => ({ entries: await listDir(capsules.running(caller(ctx), params.id), body.path, body.depth ?? 1) }),
  })

  routes.route({
    method: 'POST',
    path: '/v1/capsules/{id}/files/mkdir',
    summary: 'Creates a directory and its parents (409 when it exists)',
    tool: { name: 'capsule_mkdir' },
    params: Id,
    body: PathBody,
    responses: { 200: { description: 'The directory', schema: Type.Object({ entry: FileEntry }) } },
    errors: ['team_not_found', ...RUNNING, 'file_exists', 'file_invalid'],
    handle: async (ctx, { params, body }) => ({ entry: await makeDir(capsules.running(caller(ctx), params.id), body.path) }),
  })

  routes.route({
    method: 'POST',
    path: '/v1/capsules/{id}/files/remove',
    summary: 'Removes a file, a link or a whole directory',
    tool: { name: 'capsule_remove_file' },
    params: Id,
    body: PathBody,
    status: 204,
    responses: { 204: { description: 'Removed' } },
    errors: ['team_not_found', ...RUNNING, 'file_not_found', 'file_invalid'],
    async handle (ctx, { params, body }) {
      await removePath(capsules.running(caller(ctx), params.id), body.path)
    },
  })

  for (const [tail, summary] of [
    ['exec/stream', 'A WebSocket running one command: {type:"start",cmd,args} in; start, stdout, stderr and exit frames out'],
    ['pty', 'A WebSocket terminal: {type:"start"} (bash 80x24) or {type:"connect",tag}; input/resize/kill in (base64); started, output, exit, ping out'],
  ] as const) {
    routes.route({
      method: 'GET',
      path: `/v1/capsules/{id}/${tail}`,
      summary,
      params: Id,
      responses: { 101: { description: 'Switching to the WebSocket' } },
      errors: ['team_not_found', ...RUNNING, 'upgrade_required'],
      handle (ctx, { params }) {
        capsules.running(caller(ctx), params.id)
        throw new ColonyError('upgrade_required', `${tail} is a WebSocket: send Upgrade: websocket`)
      },
    })
  }
  onStop(mountCapsuleStreams({ http, gate, capsules, remote, activeTeam }))
}

/**
 * Reads a multipart upload part by part: the `path` field must come before the `file`, whose bytes go to `write` as
 * they arrive (nothing is buffered whole).
 */
function streamUpload (ctx: Context, write: (path: string, file: Readable) => Promise<void>): Promise<void> {
  if (!/^multipart\/form-data/i.test(ctx.get('content-type'))) {
    return Promise.reject(new ColonyError('unsupported_media_type', 'the upload must be multipart/form-data with a "path" field and a "file"'))
  }
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy
    try {
      parser = busboy({ headers: ctx.req.headers, limits: { files: 1, fields: 4, fieldSize: 8192 } })
    } catch (err) {
      reject(new ColonyError('invalid_body', `the multipart body cannot be read: ${(err as Error).message}`))
      return
    }
    let path: string | undefined
    let writing: Promise<void> | undefined
    let failed = false
    const fail = (err: unknown): void => {
      if (failed) return
      failed = true
      ctx.set('Connection', 'close')
      ctx.req.unpipe(parser)
      ctx.req.resume()
      reject(err instanceof Error ? err : new Error(String(err)))
    }
    parser.on('field', (name, value) => { if (name === 'path') path = value })
    parser.on('file', (name, stream) => {
      if (name !== 'file') { stream.resume(); return }
      if (path === undefined || path === '') {
        stream.resume()
        fail(new ColonyError('invalid_body', 'the "path" field must come before the "file"', { details: { field: 'path' } }))
        return
      }
      writing = write(path, stream)
      writing.catch((err: unknown) => { stream.resume(); fail(err) })
    })
    parser.on('error', (err: Error) => fail(new ColonyError('invalid_body', `the multipart body cannot be read: ${err.message}`)))
    parser.on('close', () => {
      if (failed) return
      if (writing === undefined) {
        fail(new ColonyError('invalid_body', 'the multipart body needs a "file"', { details: { field: 'file' } }))
        return
      }
      writing.then(resolve, fail)
    })
    ctx.req.once('error', (err: Error) => fail(new ColonyError('invalid_body', `the upload was cut off: ${err.message}`)))
    ctx.req.pipe(parser)
  })
}
