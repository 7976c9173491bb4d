import type { Context } from 'koa'
import { Type } from '@sinclair/typebox'
import { ColonyError } from '../../src/index.js'
import type { RestContext } from './deps.js'
import type { Routes } from './route.js'

export const name = 'Accounts'

/** The CSRF state cookie: only the OAuth routes ever see it. */
const COOKIE = 'colony_oauth_state'
const COOKIE_PATH = '/v1/auth/oauth'

export interface OAuthDeps {
  oauth: RestContext['oauth']
  config: RestContext['config']['oauth']
}

const Provider = Type.Object({ provider: Type.String({ description: 'a configured provider, e.g. github' }) })
const Redirect = { description: 'To the provider (login), or back to the frontend with a JWT or `?error=` (callback)' }

/**
 * Wrenn's OAuth login: `GET /v1/auth/oauth/{provider}` sends the browser to the provider with a fresh state (and
 * a cookie that proves it asked), and the provider sends it back to `.../callback`, which always ends in a
 * redirect to the frontend with either a JWT or `?error=` (never a JSON error: a browser is on the other end).
 */
export function register (routes: Routes, { oauth, config }: OAuthDeps): void {
  routes.route({
    method: 'GET',
    path: '/v1/auth/oauth/{provider}',
    public: true,
    summary: 'Starts an OAuth login: redirects the browser to the provider',
    params: Provider,
    responses: { 302: Redirect },
    errors: ['oauth_provider_not_found'],
    handle: (ctx, { params }) => { start(ctx, params.provider) },
  })

  routes.route({
    method: 'GET',
    path: '/v1/auth/oauth/{provider}/callback',
    public: true,
    summary: 'Where the provider sends the browser back; always redirects to the frontend',
    params: Provider,
    query: Type.Object({
      code: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
      state: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
      error: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    }),
    responses: { 302: Redirect },
    errors: ['oauth_provider_not_found'],
    handle: async (ctx, { params }) => { await callback(ctx, params.provider) },
  })

  const start = (ctx: Context, provider: string): void => {
    const client = oauth.provider(provider)
    if (client === undefined) throw new ColonyError('oauth_provider_not_found')
    const { state, cookie } = oauth.newState(provider)
    ctx.cookies.set(COOKIE, cookie, { ...cookieOptions(ctx), maxAge: config.stateTtlMs })
    ctx.set('Cache-Control', 'no-store')
    ctx.redirect(client.authorizeUrl(callbackUrl(ctx, provider), state))
  }

  const callback = async (ctx: Context, provider: string): Promise<void> => {
    const cookie = ctx.cookies.get(COOKIE)
    // One attempt per state, whatever the outcome: a replayed callback finds no cookie.
    ctx.cookies.set(COOKIE, null, cookieOptions(ctx))
    if (oauth.provider(provider) === undefined) throw new ColonyError('oauth_provider_not_found')
    const result = await oauth.callback(provider, {
      error: one(ctx.query.error),
      code: one(ctx.query.code),
      state: one(ctx.query.state),
      cookie,
      redirectUri: callbackUrl(ctx, provider),
    })
    const target = new URL(`${config.frontendUrl.replace(/\/+$/, '')}/auth/${provider}/callback`)
    if (result.ok) {
      const a = result.auth
      for (const [k, v] of Object.entries({ token: a.token, user_id: a.user_id, team_id: a.team_id, email: a.email, name: a.name })) {
        target.searchParams.set(k, v)
      }
    } else {
      target.searchParams.set('error', result.error)
    }
    // The answer carries a JWT in its Location: no cache may keep it.
    ctx.set('Cache-Control', 'no-store')
    ctx.set('Referrer-Policy', 'no-referrer')
    ctx.redirect(target.href)
  }
}

function cookieOptions (ctx: Context): { path: string, httpOnly: true, sameSite: 'lax', secure: boolean, signed: false, overwrite: true } {
  // Lax, not Strict: the provider's redirect back is a top-level cross-site navigation that must carry it.
  return { path: COOKIE_PATH, httpOnly: true, sameSite: 'lax', secure: ctx.secure, signed: false, overwrite: true }
}

/**
 * This server's callback as the browser reaches it: `ctx.protocol` and `ctx.host` honour X-Forwarded-Proto/Host when
 * http.trustProxy is on. (Not `ctx.origin`: since Koa 3 that is the request's Origin header.)
 */
function callbackUrl (ctx: Context, provider: string): string {
  return `${ctx.protocol}://${ctx.host}/v1/auth/oauth/${encodeURIComponent(provider)}/callback`
}

/** A repeated query parameter is not a value: it makes the check it feeds fail. */
function one (value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}
