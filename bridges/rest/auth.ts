import { Type } from '@sinclair/typebox'
import type { AuthService } from '../../src/index.js'
import { identity } from './authn.js'
import type { Routes } from './route.js'
import { AuthResponse } from './schemas.js'

export const name = 'Accounts'

export interface AuthDeps {
  auth: AuthService
}

// The exact rules (trimmed email and name, control characters) are the service's: these bounds keep
// absurd bodies out before it runs and tell a client the shape.
const Email = Type.String({ maxLength: 4096, description: 'an address like name@example.com (at most 254 characters once trimmed)' })
const Password = Type.String({ maxLength: 4096, description: '8 to 1024 characters' })

/** Wrenn's accounts API: signup (logs in at once, as the seed says), login, switch-team. */
export function register (routes: Routes, { auth }: AuthDeps): void {
  routes.route({
    method: 'POST',
    path: '/v1/auth/signup',
    public: true,
    summary: 'Creates an account and its personal team, and logs in',
    body: Type.Object({
      email: Email,
      password: Password,
      name: Type.String({ maxLength: 4096, description: '1 to 100 characters once trimmed, no control characters' }),
    }),
    status: 201,
    responses: { 201: { description: 'The account, logged in', schema: AuthResponse } },
    errors: ['email_taken'],
    handle: async (_ctx, { body }) => await auth.signup({ email: body.email, password: body.password, name: body.name }),
  })

  routes.route({
    method: 'POST',
    path: '/v1/auth/login',
    public: true,
    summary: 'Logs in with email and password; repeated failures are rate limited (429 with Retry-After)',
    body: Type.Object({ email: Email, password: Password }),
    responses: { 200: { description: 'A JWT for the account\'s default team', schema: AuthResponse } },
    errors: ['unauthorized', 'account_disabled', 'rate_limited'],
    async handle (ctx, { body }) {
      try {
        return await auth.login(body.email, body.password, ctx.ip)
      } catch (err) {
        const retry = (err as { details?: { retryAfterSeconds?: number } }).details?.retryAfterSeconds
        if (retry !== undefined) ctx.set('Retry-After', String(retry))
        throw err
      }
    },
  })

  routes.route({
    method: 'POST',
    path: '/v1/auth/switch-team',
    summary: 'A new JWT whose active team is `team_id` (a user token only, not an API key)',
    body: Type.Object({ team_id: Type.String({ maxLength: 4096 }) }),
    responses: { 200: { description: 'A JWT for that team', schema: AuthResponse } },
    errors: ['forbidden', 'team_not_found', 'account_deactivated'],
    handle: (ctx, { body }) => auth.switchTeam(identity(ctx), body.team_id),
  })
}
