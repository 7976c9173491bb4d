import type { Db } from './db.js'

export interface UserRow {
  id: string
  email: string
  name: string
  password_hash: string | null
  is_admin: number
  status: 'active' | 'disabled'
  created_at: number
}

export interface User {
  id: string
  email: string
  name: string
  passwordHash: string | null
  isAdmin: boolean
  status: 'active' | 'disabled'
  createdAtMs: number
}

function toUser (r: UserRow): User {
  return { id: r.id, email: r.email, name: r.name, passwordHash: r.password_hash, isAdmin: r.is_admin === 1, status: r.status, createdAtMs: r.created_at }
}

/** Users: the people behind passwords, JWTs and API keys. Emails are stored lower-cased and unique. */
export class Users {
  private readonly byId
  private readonly byEmail
  private readonly insertStmt
  private readonly searchStmt
  private readonly countStmt
  private readonly firstAdminStmt
  private readonly oauthGet
  private readonly oauthPut

  constructor (private readonly db: Db) {
    this.byId = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?')
    this.byEmail = db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ?')
    this.insertStmt = db.prepare('INSERT INTO users (id, email, name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?, ?, ?)')
    this.searchStmt = db.prepare<[string, number], UserRow>(
      "SELECT * FROM users WHERE email LIKE ? ESCAPE '\\' AND status = 'active' ORDER BY email LIMIT ?")
    this.countStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM users')
    this.firstAdminStmt = db.prepare<[], UserRow>("SELECT * FROM users WHERE is_admin = 1 AND status = 'active' ORDER BY created_at, id LIMIT 1")
    this.oauthGet = db.prepare<[string, string], { user_id: string }>('SELECT user_id FROM oauth_identities WHERE provider = ? AND provider_id = ?')
    this.oauthPut = db.prepare('INSERT INTO oauth_identities (provider, provider_id, user_id, created_at) VALUES (?, ?, ?, ?)')
  }

  get (id: string): User | undefined {
    const r = this.byId.get(id)
    return r === undefined ? undefined : toUser(r)
  }

  findByEmail (email: string): User | undefined {
    const r = this.byEmail.get(email.toLowerCase())
    return r === undefined ? undefined : toUser(r)
  }

  insert (u: { id: string, email: string, name: string, passwordHash: string | null, isAdmin: boolean, createdAtMs: number }): void {
    this.insertStmt.run(u.id, u.email.toLowerCase(), u.name, u.passwordHash, u.isAdmin ? 1 : 0, u.createdAtMs)
  }

  /** Active users whose email starts with `prefix` (LIKE wildcards in the prefix are matched literally). */
  searchByEmailPrefix (prefix: string, limit: number): User[] {
    const escaped = prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)
    return this.searchStmt.all(`${escaped}%`, limit).map(toUser)
  }

  count (): number {
    return this.countStmt.get()?.n ?? 0
  }

  /** The platform admin created on first start (anonymous loopback requests act as this user). */
  firstAdmin (): User | undefined {
    const r = this.firstAdminStmt.get()
    return r === undefined ? undefined : toUser(r)
  }

  oauthUser (provider: string, providerId: string): string | undefined {
    return this.oauthGet.get(provider, providerId)?.user_id
  }

  linkOauth (provider: string, providerId: string, userId: string, nowMs: number): void {
    this.oauthPut.run(provider, providerId, userId, nowMs)
  }
}
