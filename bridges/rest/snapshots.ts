import { Type } from '@sinclair/typebox'
import type { CapsuleCaller, CapsuleService } from '../../src/capsules.js'
import type { Identity } from '../../src/index.js'
import type { Context } from 'koa'
import { capsuleCaller } from './capsules.js'
import type { Routes } from './route.js'

export const name = 'Snapshots'

export interface SnapshotsDeps {
  capsules: CapsuleService
  activeTeam: (who: Identity) => string
}

const Template = Type.Object({
  name: Type.String(),
  type: Type.Union([Type.Literal('base'), Type.Literal('snapshot')]),
  vcpus: Type.Integer(),
  memory_mb: Type.Integer(),
  size_bytes: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
})

/**
 * Wrenn's snapshot templates (`/v1/snapshots`): a capsule's writable layer frozen under a name, usable as
 * `template` when creating a capsule. The source capsule is paused and stays paused, as in Wrenn.
 */
export function register (routes: Routes, { capsules, activeTeam }: SnapshotsDeps): void {
  const caller = (ctx: Context): CapsuleCaller => capsuleCaller(ctx, activeTeam)

  routes.route({
    method: 'POST',
    path: '/v1/snapshots',
    summary: 'Snapshots a running or paused capsule as a template (the capsule stays paused)',
    tool: { name: 'snapshot_capsule' },
    body: Type.Object({
      sandbox_id: Type.String({ minLength: 1, maxLength: 64 }),
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}$; default template-<8 hex>' })),
    }, { additionalProperties: false }),
    status: 201,
    responses: { 201: { description: 'The template', schema: Template } },
    errors: ['team_not_found', 'capsule_not_found', 'capsule_invalid_state', 'name_reserved', 'template_name_taken', 'capsule_exec_failed'],
    handle: async (ctx, { body }) => await capsules.snapshot(caller(ctx), body),
  })

  routes.route({
    method: 'GET',
    path: '/v1/snapshots',
    summary: 'The built-in base template and the team\'s snapshots',
    query: Type.Object({ type: Type.Optional(Type.Union([Type.Literal('base'), Type.Literal('snapshot')])) }),
    responses: { 200: { description: 'Templates', schema: Type.Array(Template) } },
    errors: ['team_not_found'],
    handle: (ctx, { query }) => capsules.templates(caller(ctx), query.type),
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/snapshots/{name}',
    summary: 'Deletes a snapshot template (409 while capsules run on it)',
    params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
    status: 204,
    responses: { 204: { description: 'Deleted' } },
    errors: ['team_not_found', 'template_not_found', 'template_in_use'],
    async handle (ctx, { params }) {
      await capsules.deleteSnapshot(caller(ctx), params.name)
    },
  })
}
