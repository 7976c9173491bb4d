import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { ColonyConfig } from '../config.js'
import { isColonyError } from '../errors.js'
import type { Logger } from '../log.js'
import type { Store, User } from '../store/index.js'
import type { AuthResponse } from './identity.js'
import type { AuthService } from './service.js'
import { validEmail } from './validate.js'

/** The `?error=` codes the seed lets the callback hand to the frontend. */
export type OAuthErrorCode = 'access_denied' | 'invalid_state' | 'missing_code' | 'exchange_failed' | 'email_taken' | 'internal_error'

/** A failed OAuth step. The message goes to logs only, so it never carries a token, a code or a secret. */
export class OAuthFailure extends Error {
  override readonly name = 'OAuthFailure'
  constructor (readonly code: OAuthErrorCode, message: string) {
    super(message)
  }
}

export interface OAuthProfile { providerId: string, email: string, name: string }

export interface GitHubSettings {
  clientId: string
  clientSecret: string
  authorizeUrl: string
  tokenUrl: string
  apiUrl: string
  timeoutMs: number
}

/** Every provider call has a deadline: a provider that hangs must not hold a login (and a socket) forever. */
export const PROVIDER_TIMEOUT_MS = 10_000

/**
 * GitHub's web flow, against the configured URLs only (so GitHub Enterprise works). Every way a call can fail
 * (unreachable, timeout, non-2xx, not JSON, a refused code, a missing field) becomes `exchange_failed` here, once.
 */
export class GitHubClient {
  constructor (private readonly s: GitHubSettings) {}

  authorizeUrl (redirectUri: string, state: string): string {
    const url = new URL(this.s.authorizeUrl)
    url.searchParams.set('client_id', this.s.clientId)
    url.searchParams.set('redirect_uri', redirectUri)
    url.searchParams.set('scope', 'read:user user:email')
    url.searchParams.set('state', state)
    return url.href
  }

  async profile (code: string, redirectUri: string): Promise<OAuthProfile> {
    const token = await this.exchange(code, redirectUri)
    const [user, emails] = await Promise.all([this.api('/user', token), this.api('/user/emails', token)])
    const id = field(user, 'id')
    if (!(typeof id === 'number' && Number.isSafeInteger(id) && id > 0) && !(typeof id === 'string' && /^\w{1,64}$/.test(id))) {
      throw new OAuthFailure('exchange_failed', 'GET /user has no usable id')
    }
    // The profile's `email` is whatever the user made public; only a verified primary address proves ownership.
    const primary: unknown = Array.isArray(emails)
      ? (emails as unknown[]).find((e) => field(e, 'primary') === true && field(e, 'verified') === true && typeof field(e, 'email') === 'string')
      : undefined
    if (primary === undefined) throw new OAuthFailure('exchange_failed', 'the GitHub account has no verified primary email')
    let email: string
    try {
      email = validEmail(field(primary, 'email') as string)
    } catch {
      throw new OAuthFailure('exchange_failed', 'the verified primary email is not a usable address')
    }
    const login = field(user, 'login')
    return { providerId: String(id), email, name: displayName(field(user, 'name'), login, email) }
  }

  private async exchange (code: string, redirectUri: string): Promise<string> {
    const body = await this.call('token endpoint', this.s.tokenUrl, {
      method: 'POST',
      // Without Accept: application/json GitHub answers form-encoded.
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: this.s.clientId, client_secret: this.s.clientSecret, code, redirect_uri: redirectUri }).toString(),
    })
    // GitHub answers a bad, expired or reused code with 200 and `{error}`.
    const error = field(body, 'error')
    if (typeof error === 'string') throw new OAuthFailure('exchange_failed', `the token endpoint refused the code (${error.slice(0, 60)})`)
    const token = field(body, 'access_token')
    if (typeof token !== 'string' || token === '') throw new OAuthFailure('exchange_failed', 'the token endpoint sent no access_token')
    return token
  }

  private async api (path: '/user' | '/user/emails', token: string): Promise<unknown> {
    return this.call(`GET ${path}`, `${this.s.apiUrl.replace(/\/+$/, '')}${path}`, {
      headers: { accept: 'application/vnd.github+json', authorization: `Bearer ${token}`, 'user-agent': 'colony' },
    })
  }

  private async call (what: string, url: string, init: RequestInit): Promise<unknown> {
    let res: Response
    try {
      // No redirects: the token and the client secret only ever go to the configured URLs.
      res = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.s.timeoutMs) })
    } catch (err) {
      throw new OAuthFailure('exchange_failed', `${what} unreachable: ${reason(err, this.s.timeoutMs)}`)
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined)
      throw new OAuthFailure('exchange_failed', `${what} answered HTTP ${res.status}`)
    }
    const text = await res.text().catch((err: unknown) => {
      throw new OAuthFailure('exchange_failed', `${what} body unreadable: ${reason(err, this.s.timeoutMs)}`)
    })
    try {
      return JSON.parse(text) as unknown
    } catch {
      // Not the parser's message: it quotes the body, which may hold a token (a form-encoded answer does).
      throw new OAuthFailure('exchange_failed', `${what} answered something that is not JSON`)
    }
  }
}

function field (value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined
}

function reason (err: unknown, timeoutMs: number): string {
  const e = err as { name?: string, cause?: { code?: unknown } }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs} ms`
  return typeof e.cause?.code === 'string' ? e.cause.code : 'network error'
}

/** A provider name is shown, never refused: clean it into Colony's name rule, falling back to the login. */
function displayName (name: unknown, login: unknown, email: string): string {
  for (const candidate of [name, login]) {
    const clean = typeof candidate === 'string' ? candidate.replace(/\p{Cc}/gu, '').trim().slice(0, 100).trim() : ''
    if (clean !== '') return clean
  }
  return email.split('@')[0] ?? 'user'
}

export interface OAuthServiceOptions {
  store: Store
  auth: AuthService
  clock: Clock
  log: Logger
  config: ColonyConfig['oauth']
  /** Signs the state cookie, so its expiry is checked here and not left to the browser. */
  secret: Buffer
  timeoutMs?: number
}

export interface CallbackInput { error?: string | undefined, code?: string | undefined, state?: string | undefined, cookie?: string | undefined, redirectUri: string }
export type CallbackResult = { ok: true, auth: AuthResponse } | { ok: false, error: OAuthErrorCode }

/** OAuth login: the provider clients, the CSRF state, and finding or creating the account behind a provider id. */
export class OAuthService {
  private readonly github: GitHubClient | undefined
  private readonly stateKey: Buffer

  constructor (private readonly o: OAuthServiceOptions) {
    const c = o.config
    this.github = c.githubClientId === ''
      ? undefined
      : new GitHubClient({
        clientId: c.githubClientId, clientSecret: c.githubClientSecret, authorizeUrl: c.githubAuthorizeUrl,
        tokenUrl: c.githubTokenUrl, apiUrl: c.githubApiUrl, timeoutMs: o.timeoutMs ?? PROVIDER_TIMEOUT_MS,
      })
    this.stateKey = createHmac('sha256', o.secret).update('colony oauth state').digest()
  }

  /** The client for a known, configured provider; undefined otherwise (the routes answer 404). */
  provider (name: string): GitHubClient | undefined {
    return name === 'github' ? this.github : undefined
  }

  /** A fresh `state` for the provider and the cookie that proves, on callback, that this browser asked for it. */
  newState (provider: string): { state: string, cookie: string } {
    const state = randomBytes(24).toString('base64url')
    const expires = this.o.clock.now() + this.o.config.stateTtlMs
    return { state, cookie: `${state}.${expires}.${this.mac(provider, state, expires)}` }
  }

  private stateValid (provider: string, cookie: string | undefined, state: string | undefined): boolean {
    const [nonce, expires, mac, extra] = (cookie ?? '').split('.')
    if (nonce === undefined || expires === undefined || mac === undefined || extra !== undefined || state === undefined) return false
    if (!/^\d{1,16}$/.test(expires) || !same(mac, this.mac(provider, nonce, Number(expires)))) return false
    return Number(expires) > this.o.clock.now() && same(nonce, state)
  }

  private mac (provider: string, state: string, expires: number): string {
    return createHmac('sha256', this.stateKey).update(`${provider}\n${state}\n${expires}`).digest('base64url')
  }

  /** The whole callback, in the seed's order of checks; every failure is one of the seed's codes. */
  async callback (provider: string, input: CallbackInput): Promise<CallbackResult> {
    const log = this.o.log
    const client = this.provider(provider)
    try {
      if (client === undefined) throw new OAuthFailure('internal_error', 'provider not configured')
      // Any provider error means the user did not grant access (GitHub sends access_denied on "Cancel").
      if (input.error !== undefined) throw new OAuthFailure('access_denied', `the provider sent error ${input.error.slice(0, 60)}`)
      if (!this.stateValid(provider, input.cookie, input.state)) throw new OAuthFailure('invalid_state', 'state cookie missing, expired or not matching')
      if (input.code === undefined || input.code === '') throw new OAuthFailure('missing_code', 'no code in the callback')
      const profile = await client.profile(input.code, input.redirectUri)
      const { auth, created } = this.signIn(provider, profile)
      log.info({ provider, userId: auth.user_id, created }, created ? 'oauth signup' : 'oauth login')
      return { ok: true, auth }
    } catch (err) {
      if (err instanceof OAuthFailure) {
        // A provider or network fault is worth a warning; a user's cancel or a stale tab is not.
        const level = err.code === 'exchange_failed' ? 'warn' : 'info'
        log[level]({ provider, code: err.code, reason: err.message }, 'oauth login refused')
        return { ok: false, error: err.code }
      }
      log.error({ provider, err }, 'oauth login failed')
      return { ok: false, error: 'internal_error' }
    }
  }

  /** Finds the account linked to the provider id, or creates one (with its personal team) and links it. */
  private signIn (provider: string, profile: OAuthProfile): { auth: AuthResponse, created: boolean } {
    const { store, auth } = this.o
    const linked = store.users.oauthUser(provider, profile.providerId)
    if (linked !== undefined) {
      const user = store.users.get(linked)
      if (user === undefined) throw new Error('an oauth identity points at a missing user')
      if (user.status !== 'active') throw new OAuthFailure('access_denied', 'the linked account is disabled')
      return { auth: auth.issueLogin(user), created: false }
    }
    // Linking by email would hand an existing account to whoever controls a GitHub account with that address.
    if (store.users.findByEmail(profile.email) !== undefined) throw new OAuthFailure('email_taken', 'the email belongs to an account not linked to this identity')
    let user: User
    try {
      user = store.transaction(() => {
        const u = auth.createUser({ email: profile.email, name: profile.name, passwordHash: null, isAdmin: false })
        store.users.linkOauth(provider, profile.providerId, u.id, this.o.clock.now())
        return u
      })
    } catch (err) {
      if (isColonyError(err) && err.code === 'email_taken') throw new OAuthFailure('email_taken', 'the email was taken meanwhile')
      throw err
    }
    return { auth: auth.issueLogin(user), created: true }
  }
}

function same (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
