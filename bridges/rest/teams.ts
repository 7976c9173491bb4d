import { Type } from '@sinclair/typebox'
import type { AuthService, TeamService } from '../../src/index.js'
import { identity } from './authn.js'
import type { Routes } from './route.js'
import { Member, OneOf, TeamWithMembers, TeamWithRole, UserMatch } from './schemas.js'

export const name = 'Teams'

export interface TeamsDeps {
  teams: TeamService
  auth: AuthService
}

const TeamRef = Type.Object({ id: Type.String() })
const MemberRef = Type.Object({ id: Type.String(), uid: Type.String() })
const TeamName = Type.Object({ name: Type.String({ maxLength: 4096, description: '1 to 128 characters of A-Z, a-z, 0-9, space and _' }) })
const TEAM_ERRORS = ['team_not_found', 'forbidden'] as const

/** Wrenn's users and teams API. Roles are read from the database on every call, never from the token. */
export function register (routes: Routes, { teams, auth }: TeamsDeps): void {
  routes.route({
    method: 'GET',
    path: '/v1/users/search',
    summary: 'Users whose email starts with a prefix (it must contain "@"), to add them to a team',
    query: Type.Object({ email: Type.String({ description: 'an email prefix containing "@", e.g. alice@' }) }),
    invalid: { query: 'invalid_body' },
    responses: { 200: { description: 'Matching users', schema: Type.Array(UserMatch) } },
    errors: [],
    handle: (ctx, { query }) => {
      identity(ctx)
      return auth.searchUsers(query.email)
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/teams',
    summary: 'The caller\'s teams with their role in each',
    responses: { 200: { description: 'Teams', schema: Type.Array(TeamWithRole) } },
    errors: [],
    handle: (ctx) => teams.list(identity(ctx)),
  })

  routes.route({
    method: 'POST',
    path: '/v1/teams',
    summary: 'Creates a team owned by the caller',
    body: TeamName,
    status: 201,
    responses: { 201: { description: 'The team', schema: TeamWithRole } },
    errors: ['forbidden'],
    handle: (ctx, { body }) => teams.create(identity(ctx), body.name),
  })

  routes.route({
    method: 'GET',
    path: '/v1/teams/{id}',
    summary: 'A team and its members',
    params: TeamRef,
    responses: { 200: { description: 'The team', schema: TeamWithMembers } },
    errors: TEAM_ERRORS,
    handle: (ctx, { params }) => teams.get(identity(ctx), params.id),
  })

  routes.route({
    method: 'PATCH',
    path: '/v1/teams/{id}',
    summary: 'Renames a team (owner or admin)',
    params: TeamRef,
    body: TeamName,
    status: 204,
    responses: { 204: { description: 'Renamed' } },
    errors: TEAM_ERRORS,
    handle (ctx, { params, body }) {
      teams.rename(identity(ctx), params.id, body.name)
    },
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/teams/{id}',
    summary: 'Deletes a team (owner), its API keys and its actors',
    params: TeamRef,
    status: 204,
    responses: { 204: { description: 'Deleted' } },
    errors: TEAM_ERRORS,
    handle (ctx, { params }) {
      teams.remove(identity(ctx), params.id)
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/teams/{id}/members',
    summary: 'The members of a team',
    params: TeamRef,
    responses: { 200: { description: 'Members', schema: Type.Array(Member) } },
    errors: TEAM_ERRORS,
    handle: (ctx, { params }) => teams.members(identity(ctx), params.id),
  })

  routes.route({
    method: 'POST',
    path: '/v1/teams/{id}/members',
    summary: 'Adds a user (by email) to a team as a member',
    params: TeamRef,
    body: Type.Object({ email: Type.String({ maxLength: 4096 }) }),
    status: 201,
    responses: { 201: { description: 'The new member', schema: Member } },
    errors: [...TEAM_ERRORS, 'user_not_found', 'already_member'],
    handle: (ctx, { params, body }) => teams.addMember(identity(ctx), params.id, body.email),
  })

  routes.route({
    method: 'PATCH',
    path: '/v1/teams/{id}/members/{uid}',
    summary: 'Changes a member\'s role (admin or member)',
    params: MemberRef,
    body: Type.Object({ role: OneOf(['admin', 'member']) }),
    status: 204,
    responses: { 204: { description: 'Changed' } },
    errors: [...TEAM_ERRORS, 'member_not_found', 'owner_immutable'],
    handle (ctx, { params, body }) {
      teams.setRole(identity(ctx), params.id, params.uid, body.role)
    },
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/teams/{id}/members/{uid}',
    summary: 'Removes a member from a team',
    params: MemberRef,
    status: 204,
    responses: { 204: { description: 'Removed' } },
    errors: [...TEAM_ERRORS, 'member_not_found', 'owner_immutable'],
    handle (ctx, { params }) {
      teams.removeMember(identity(ctx), params.id, params.uid)
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/teams/{id}/leave',
    summary: 'The caller leaves a team (not its owner)',
    params: TeamRef,
    status: 204,
    responses: { 204: { description: 'Left' } },
    errors: [...TEAM_ERRORS, 'member_not_found', 'owner_immutable'],
    handle (ctx, { params }) {
      teams.leave(identity(ctx), params.id)
    },
  })
}
