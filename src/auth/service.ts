import type { Clock } from '../clock.js'
import { ColonyError } from '../errors.js'
import type { Logger } from '../log.js'
import type { ApiKey, Store, User } from '../store/index.js'
import { AuthEvents } from './events.js'
import type { AuthResponse, Identity } from './identity.js'
import { signJwt, verifyJwt } from './jwt.js'
import { decoyHash, hashPassword, verifyPassword, type ScryptCost } from './passwords.js'
import { FailureLimiter } from './ratelimit.js'
import { API_KEY_PATTERN, hashApiKey, newApiKey, newId, newSlug } from './tokens.js'
import { personalTeamName, validEmail, validName, validPassword } from './validate.js'

/** Three base64url parts (header.payload.signature). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

export interface AuthOptions {
  store: Store
  clock: Clock
  log: Logger
  secret: Buffer
  jwtTtlMs: number
  scrypt: ScryptCost
  login: { maxPerAccount: number, maxPerAddress: number, windowMs: number }
}

interface CachedKey { identity: Identity, touchedAtMs: number }

/** How often a key's `last_used` is written: every use would turn each request into a database write. */
const TOUCH_EVERY_MS = 60_000

/**
 * Accounts, logins, JWTs and credential checks. API keys are looked up by their SHA-256 (the store holds only
 * hashes) and, once verified, kept in a cache by the key itself that is dropped the moment a key is revoked: a
 * request with a known key costs one map lookup instead of a SHA-256 (~2 µs, 3 % of a cached GET), and revocation is
 * immediate. Only keys that verified are cached, so the cache holds no more entries than there are live keys,
 * and the raw keys it holds are ones this process was sent anyway.
 */
export class AuthService {
  readonly events = new AuthEvents()
  private readonly store: Store
  private readonly clock: Clock
  /** Verified API keys by their raw value. */
  private readonly keyCache = new Map<string, CachedKey>()
  private readonly teamsCache = new Map<string, ReadonlySet<string>>()
  /** Every credential-less request in development mode is this identity: built once, rebuilt when teams change. */
  private local: Identity | undefined
  private readonly perAccount: FailureLimiter
  private readonly perAddress: FailureLimiter

  constructor (private readonly options: AuthOptions) {
    this.store = options.store
    this.clock = options.clock
    this.perAccount = new FailureLimiter(options.clock, options.login.maxPerAccount, options.login.windowMs)
    this.perAddress = new FailureLimiter(options.clock, options.login.maxPerAddress, options.login.windowMs)
    this.events.on('keysRevoked', (ids) => {
      const revoked = new Set(ids)
      for (const [key, entry] of this.keyCache) if (revoked.has(entry.identity.keyId ?? '')) this.keyCache.delete(key)
    })
    this.events.on('membershipChanged', (userId) => {
      this.teamsCache.delete(userId)
      if (this.local?.userId === userId) this.local = undefined
      // Cached key identities carry their team set; drop those of this user.
      for (const [key, entry] of this.keyCache) if (entry.identity.userId === userId) this.keyCache.delete(key)
    })
  }

  // ---- accounts ----

  async signup (input: { email: string, password: string, name: string }): Promise<AuthResponse> {
    const email = validEmail(input.email)
    const password = validPassword(input.password)
    const name = validName(input.name)
    if (this.store.users.findByEmail(email) !== undefined) throw new ColonyError('email_taken')
    const passwordHash = await hashPassword(password, this.options.scrypt)
    const user = this.createUser({ email, name, passwordHash, isAdmin: false })
    return this.issueLogin(user)
  }

  /** Creates a user and a personal team the user owns, in one transaction. */
  createUser (u: { email: string, name: string, passwordHash: string | null, isAdmin: boolean }): User {
    const now = this.clock.now()
    const id = newId('usr')
    this.store.transaction(() => {
      // Checked again inside the transaction: two signups racing for one email get one account and one 409.
      if (this.store.users.findByEmail(u.email) !== undefined) throw new ColonyError('email_taken')
      this.store.users.insert({ id, ...u, createdAtMs: now })
      this.createTeamFor(id, personalTeamName(u.name), true)
    })
    return this.store.users.get(id) as User
  }

  /** Creates a team owned by `userId` (inside the caller's transaction when there is one). */
  createTeamFor (userId: string, name: string, isDefault = false): string {
    const now = this.clock.now()
    const teamId = newId('team')
    let slug = newSlug()
    while (this.store.teams.slugTaken(slug)) slug = newSlug()
    this.store.teams.insert({ id: teamId, name, slug, isDefault, createdAtMs: now })
    this.store.teams.addMember(teamId, userId, 'owner', now)
    this.events.emit('membershipChanged', userId)
    return teamId
  }

  /**
   * The team a login lands in: the personal one, else the oldest. Someone who deleted every team they had gets
   * a new personal team, so an account is never locked out by its own team deletions.
   */
  personalTeam (userId: string): string {
    const teams = this.store.teams.forUser(userId)
    const team = teams.find((t) => t.isDefault) ?? teams[0]
    if (team !== undefined) return team.id
    const user = this.store.users.get(userId)
    return this.store.transaction(() => this.createTeamFor(userId, personalTeamName(user?.name ?? ''), true))
  }

  async login (emailRaw: string, password: string, address: string): Promise<AuthResponse> {
    const email = emailRaw.trim().toLowerCase()
    const wait = Math.max(this.perAccount.retryAfterMs(email), this.perAddress.retryAfterMs(address))
    if (wait > 0) {
      throw new ColonyError('rate_limited', `too many failed logins; try again in ${Math.ceil(wait / 1000)} s`, {
        details: { retryAfterSeconds: Math.ceil(wait / 1000) },
      })
    }
    const user = this.store.users.findByEmail(email)
    // An unknown email costs the same scrypt work as a wrong password.
    const ok = await verifyPassword(password, user?.passwordHash ?? await decoyHash(this.options.scrypt))
    if (user === undefined || user.passwordHash === null || !ok) {
      this.perAccount.fail(email)
      this.perAddress.fail(address)
      throw new ColonyError('unauthorized', 'invalid email or password')
    }
    if (user.status !== 'active') throw new ColonyError('account_disabled')
    this.perAccount.reset(email)
    return this.issueLogin(user)
  }

  /** A login's JWT: scoped to the user's personal team (see personalTeam). */
  issueLogin (user: User): AuthResponse {
    return this.issue(user, this.personalTeam(user.id))
  }

  /** A JWT for `user` scoped to `teamId` (whose membership the caller has checked). */
  issue (user: User, teamId: string): AuthResponse {
    const role = this.store.teams.role(teamId, user.id)
    if (role === undefined) throw new ColonyError('forbidden', 'not a member of this team')
    const now = Math.floor(this.clock.now() / 1000)
    const token = signJwt({
      sub: user.id, team_id: teamId, role, email: user.email, name: user.name, is_admin: user.isAdmin,
      iat: now, exp: now + Math.floor(this.options.jwtTtlMs / 1000),
    }, this.options.secret)
    return { token, user_id: user.id, team_id: teamId, email: user.email, name: user.name }
  }

  switchTeam (who: Identity, teamId: string): AuthResponse {
    // A key is a team's credential, not a person's: it may not mint a user JWT that would outlive its revocation.
    if (who.kind === 'api_key') throw new ColonyError('forbidden', 'switch-team needs a user token (log in), not an API key')
    const user = this.store.users.get(who.userId)
    if (user === undefined) throw new ColonyError('unauthorized')
    if (this.store.teams.get(teamId) === undefined) throw new ColonyError('team_not_found')
    if (this.store.teams.role(teamId, user.id) === undefined) throw new ColonyError('forbidden', 'not a member of this team')
    return this.issue(user, teamId)
  }

  /** Wrenn's member autocomplete: up to 10 active users whose email starts with a prefix that contains "@". */
  searchUsers (prefix: string): Array<{ user_id: string, email: string }> {
    const p = prefix.trim()
    if (!p.includes('@') || p.length > 254) {
      throw new ColonyError('invalid_body', 'the email prefix must contain "@" (e.g. "alice@")', { details: { field: 'email' } })
    }
    return this.store.users.searchByEmailPrefix(p, 10).map((u) => ({ user_id: u.id, email: u.email }))
  }

  // ---- credentials ----

  /** Resolves an API key or a JWT to an Identity; anything else is 401 `unauthorized`. */
  authenticate (credential: string): Identity {
    if (API_KEY_PATTERN.test(credential)) return this.byApiKey(credential)
    // Only something shaped like a JWT is read as one; anything else (`X-API-Key: hello`) was meant as a key.
    if (JWT_SHAPE.test(credential)) return this.byJwt(credential)
    throw new ColonyError('unauthorized', 'invalid API key')
  }

  private byApiKey (key: string): Identity {
    const now = this.clock.now()
    let entry = this.keyCache.get(key)
    if (entry === undefined) {
      const record = this.store.apiKeys.findByHash(hashApiKey(key))
      const user = record === undefined ? undefined : this.store.users.get(record.createdBy)
      if (record === undefined || user === undefined) throw new ColonyError('unauthorized', 'invalid API key')
      if (user.status !== 'active') throw new ColonyError('account_deactivated')
      entry = {
        identity: {
          kind: 'api_key', userId: user.id, email: user.email, name: user.name, teamId: record.teamId,
          isAdmin: user.isAdmin, keyId: record.id, teams: new Set([record.teamId]),
        },
        touchedAtMs: record.lastUsedMs ?? 0,
      }
      this.keyCache.set(key, entry)
    }
    if (now - entry.touchedAtMs >= TOUCH_EVERY_MS) {
      entry.touchedAtMs = now
      this.store.apiKeys.touch(entry.identity.keyId as string, now)
    }
    return entry.identity
  }

  private byJwt (token: string): Identity {
    const check = verifyJwt(token, this.options.secret, this.clock.now())
    if (!check.ok) throw new ColonyError('unauthorized', check.reason === 'expired' ? 'the token has expired' : 'invalid token')
    const claims = check.claims
    // Every JWT use re-checks the account: a disabled or vanished user is refused at once.
    const user = this.store.users.get(claims.sub)
    if (user === undefined) throw new ColonyError('unauthorized', 'invalid token')
    if (user.status !== 'active') throw new ColonyError('account_deactivated')
    const teamsOf = (id: string): ReadonlySet<string> => this.teamsOf(id)
    return {
      kind: 'user', userId: user.id, email: user.email, name: user.name, teamId: claims.team_id, isAdmin: user.isAdmin,
      expiresAtMs: claims.exp * 1000,
      // Read through the cache on each use: a long MQTT or /ws session sees a removal from a team at once.
      get teams () { return teamsOf(user.id) },
    }
  }

  /** The teams a user belongs to, cached until a membership changes. */
  teamsOf (userId: string): ReadonlySet<string> {
    let teams = this.teamsCache.get(userId)
    if (teams === undefined) {
      teams = new Set(this.store.teams.forUser(userId).map((t) => t.id))
      this.teamsCache.set(userId, teams)
    }
    return teams
  }

  /** The identity of credential-less requests in loopback development mode: the first platform admin. */
  localIdentity (): Identity {
    if (this.local !== undefined) return this.local
    const user = this.store.users.firstAdmin()
    if (user === undefined) throw new ColonyError('unauthorized')
    const teamsOf = (id: string): ReadonlySet<string> => this.teamsOf(id)
    this.local = {
      kind: 'local', userId: user.id, email: user.email, name: user.name, teamId: this.personalTeam(user.id),
      isAdmin: true,
      get teams () { return teamsOf(user.id) },
    }
    return this.local
  }

  // ---- API keys ----

  /**
   * The team a credential acts for, checked against the database now: the team must still exist and a user
   * token's holder must still be a member (a JWT issued before a removal or a team deletion says otherwise).
   */
  activeTeam (who: Identity): string {
    if (this.store.teams.get(who.teamId) === undefined) {
      throw new ColonyError('team_not_found', 'the team this credential is scoped to no longer exists; switch team')
    }
    if (who.kind === 'user' && this.store.teams.role(who.teamId, who.userId) === undefined) {
      throw new ColonyError('forbidden', 'you are no longer a member of the team this token is scoped to; switch team')
    }
    return who.teamId
  }

  /** A new key for the caller's active team; `key` is the plaintext, shown to the caller once and never stored. */
  createApiKey (who: Identity, name: string): { record: ApiKey, key: string } {
    const teamId = this.activeTeam(who)
    const { key, hash, prefix } = newApiKey()
    const id = newId('key')
    this.store.apiKeys.insert({ id, teamId, createdBy: who.userId, name, keyHash: hash, keyPrefix: prefix, createdAtMs: this.clock.now() })
    return { record: this.store.apiKeys.get(id) as ApiKey, key }
  }

  listApiKeys (who: Identity): ApiKey[] {
    return this.store.apiKeys.forTeam(this.activeTeam(who))
  }

  deleteApiKey (who: Identity, id: string): void {
    const record = this.store.apiKeys.get(id)
    if (record === undefined || (!who.isAdmin && record.teamId !== this.activeTeam(who))) throw new ColonyError('api_key_not_found')
    this.store.apiKeys.remove(id)
    this.events.emit('keysRevoked', [id])
  }

  /** First start with an empty database: an owner account and a one-time admin API key (printed by the CLI). */
  bootstrap (): { email: string, apiKey: string } | undefined {
    if (this.store.users.count() > 0) return undefined
    const user = this.createUser({ email: 'admin@colony.local', name: 'Colony admin', passwordHash: null, isAdmin: true })
    const identity = this.localIdentity()
    const { key } = this.createApiKey(identity, 'bootstrap admin key')
    this.options.log.info({ userId: user.id }, 'first start: created the admin account and a one-time admin API key')
    return { email: user.email, apiKey: key }
  }
}
