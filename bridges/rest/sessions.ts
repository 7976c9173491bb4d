import { Type } from '@sinclair/typebox'
import type { CapsuleCaller, SessionService } from '../../src/capsules.js'
import type { Identity } from '../../src/index.js'
import type { Context } from 'koa'
import { capsuleCaller } from './capsules.js'
import type { Routes } from './route.js'

export const name = 'Sessions'

export interface SessionsDeps {
  sessions: SessionService
  activeTeam: (who: Identity) => string
}

const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, description: 'a session id (32 hex)' }) })
const Status = Type.Object({
  session_id: Type.String(),
  state: Type.Literal('active'),
  created_at_elapsed_ms: Type.Integer(),
  last_accessed_elapsed_ms: Type.Integer(),
  timeout_secs: Type.Integer(),
})
const Message = Type.Object({ message: Type.String() })
const PathQuery = Type.Object({
  path: Type.String({ minLength: 1, maxLength: 4096, description: 'relative to the session root; a leading / is stripped, .. is refused' }),
  list: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
})
const SESSION = ['session_not_found', 'session_expired'] as const
const FILES = [...SESSION, 'invalid_path', 'file_not_found', 'file_invalid', 'capsule_exec_failed', 'capsule_invalid_state'] as const

/**
 * wasmrun's agent API (`/api/v1/sessions`): sessions (each a capsule underneath), their files and env, and exec of
 * a WASI module (`wasm_path`, `function`, `args`) or a `command` in the sandbox.
 */
export function register (routes: Routes, { sessions, activeTeam }: SessionsDeps): void {
  const caller = (ctx: Context): CapsuleCaller => capsuleCaller(ctx, activeTeam)

  routes.route({
    method: 'POST',
    path: '/api/v1/sessions',
    summary: 'Creates a session: an isolated sandbox with its own files and env, gone after 300 s without use',
    tool: { name: 'create_session' },
    body: Type.Object({
      limits: Type.Optional(Type.Object({
        max_memory_mb: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_536 })),
        max_output_mb: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })),
        max_file_size_mb: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })),
        max_fuel: Type.Optional(Type.Integer({ minimum: 0 })),
        max_disk_mb: Type.Optional(Type.Integer({ minimum: 0 })),
      })),
    }),
    bodyKind: 'optional-json',
    responses: { 200: { description: 'The session', schema: Type.Object({ session_id: Type.String(), created_at: Type.String() }) } },
    errors: ['team_not_found', 'session_limit', 'capsule_unavailable', 'capsule_start_failed'],
    handle: async (ctx, { body }) => await sessions.create(caller(ctx), body.limits ?? {}),
  })

  routes.route({
    method: 'GET',
    path: '/api/v1/sessions',
    summary: 'The live sessions, newest first',
    tool: { name: 'list_sessions' },
    responses: { 200: { description: 'Sessions', schema: Type.Object({ sessions: Type.Array(Status), count: Type.Integer() }) } },
    errors: ['team_not_found'],
    handle: (ctx) => sessions.list(caller(ctx)),
  })

  routes.route({
    method: 'GET',
    path: '/api/v1/sessions/{id}',
    summary: 'A session\'s status',
    tool: { name: 'get_session' },
    params: Id,
    responses: { 200: { description: 'The session', schema: Status } },
    errors: ['team_not_found', ...SESSION],
    handle: async (ctx, { params }) => await sessions.get(caller(ctx), params.id),
  })

  routes.route({
    method: 'DELETE',
    path: '/api/v1/sessions/{id}',
    summary: 'Destroys a session and its files',
    tool: { name: 'destroy_session' },
    params: Id,
    responses: { 200: { description: 'Destroyed', schema: Message } },
    errors: ['team_not_found', ...SESSION],
    handle: async (ctx, { params }) => await sessions.destroy(caller(ctx), params.id),
  })

  routes.route({
    method: 'POST',
    path: '/api/v1/sessions/{id}/exec',
    summary: 'Runs a WASI module (wasm_path, function, args) or a command (sh -c, in the sandbox); 200 whenever it ran, a timeout is exit_code -1 with the partial output',
    tool: { name: 'execute_code' },
    params: Id,
    body: Type.Object({
      command: Type.Optional(Type.String({ maxLength: 131_072 })),
      wasm_path: Type.Optional(Type.String({ maxLength: 4096 })),
      function: Type.Optional(Type.String({ maxLength: 256 })),
      args: Type.Optional(Type.Array(Type.String({ maxLength: 131_072 }), { maxItems: 1024 })),
      timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, description: 'seconds, default 30' })),
      env: Type.Optional(Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 32_768 }))),
      stdin: Type.Optional(Type.String({ maxLength: 10_485_760 })),
    }),
    responses: {
      200: {
        description: 'What it printed, its exit code and duration',
        schema: Type.Object({
          stdout: Type.String(), stderr: Type.String(), exit_code: Type.Integer(), duration_ms: Type.Integer(),
          output_truncated: Type.Optional(Type.Literal(true)), error: Type.Optional(Type.String()),
        }),
      },
    },
    errors: ['team_not_found', ...SESSION, 'invalid_path', 'capsule_exec_failed', 'capsule_invalid_state'],
    handle: async (ctx, { params, body }) => await sessions.exec(caller(ctx), params.id, body),
  })

  routes.route({
    method: 'POST',
    path: '/api/v1/sessions/{id}/files',
    summary: 'Writes a text file in the session (parent directories created)',
    tool: { name: 'write_file' },
    params: Id,
    body: Type.Object({
      path: Type.String({ minLength: 1, maxLength: 4096 }),
      content: Type.String(),
      encoding: Type.Optional(Type.Union([Type.Literal('utf-8'), Type.Literal('base64')], { description: 'base64 for binary files such as a .wasm module (default utf-8)' })),
    }),
    responses: { 200: { description: 'Written', schema: Message } },
    errors: ['team_not_found', ...FILES, 'file_too_large'],
    handle: async (ctx, { params, body }) => await sessions.writeFile(caller(ctx), params.id, body.path, body.content, body.encoding),
  })

  routes.route({
    method: 'GET',
    path: '/api/v1/sessions/{id}/files',
    summary: 'A file\'s text ({path, content}), or with list=true a directory\'s entries ({path, entries: [{name, is_dir, size}]})',
    tool: { name: 'read_file', description: 'Reads a text file of the session ({path, content}); with list: "true" lists a directory instead ({path, entries})' },
    params: Id,
    query: PathQuery,
    responses: { 200: { description: 'The file or the listing' } },
    errors: ['team_not_found', ...FILES],
    handle: async (ctx, { params, query }) => query.list === 'true'
      ? await sessions.listFiles(caller(ctx), params.id, query.path)
      : await sessions.readFile(caller(ctx), params.id, query.path),
  })

  routes.route({
    method: 'DELETE',
    path: '/api/v1/sessions/{id}/files',
    summary: 'Deletes a file or a directory (recursively)',
    tool: { name: 'delete_file' },
    params: Id,
    query: Type.Object({ path: PathQuery.properties.path }),
    responses: { 200: { description: 'Deleted', schema: Message } },
    errors: ['team_not_found', ...FILES],
    handle: async (ctx, { params, query }) => await sessions.deleteFile(caller(ctx), params.id, query.path),
  })

  routes.route({
    method: 'POST',
    path: '/api/v1/sessions/{id}/env',
    summary: 'Sets environment variables for the session\'s later execs',
    params: Id,
    body: Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.String({ maxLength: 32_768 }), { maxProperties: 256 }),
    responses: { 200: { description: 'Set', schema: Message } },
    errors: ['team_not_found', ...SESSION],
    handle: async (ctx, { params, body }) => await sessions.setEnv(caller(ctx), params.id, body),
  })

  routes.route({
    method: 'GET',
    path: '/api/v1/sessions/{id}/env',
    summary: 'The session\'s environment variables',
    params: Id,
    responses: { 200: { description: 'The env', schema: Type.Object({ env: Type.Record(Type.String(), Type.String()) }) } },
    errors: ['team_not_found', ...SESSION],
    handle: async (ctx, { params }) => await sessions.getEnv(caller(ctx), params.id),
  })
}
