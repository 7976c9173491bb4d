import type { Db } from './db.js'

export interface ApiKey {
  id: string
  teamId: string
  createdBy: string
  name: string
  keyPrefix: string
  createdAtMs: number
  lastUsedMs: number | null
}

interface Row { id: string, team_id: string, created_by: string, name: string, key_prefix: string, created_at: number, last_used: number | null }

const toKey = (r: Row): ApiKey => ({
  id: r.id, teamId: r.team_id, createdBy: r.created_by, name: r.name, keyPrefix: r.key_prefix, createdAtMs: r.created_at, lastUsedMs: r.last_used,
})

/** API keys: only the SHA-256 of a key is stored; the plaintext exists once, in the create response. */
export class ApiKeys {
  private readonly stmts

  constructor (db: Db) {
    const cols = 'id, team_id, created_by, name, key_prefix, created_at, last_used'
    this.stmts = {
      insert: db.prepare('INSERT INTO api_keys (id, team_id, created_by, name, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      byHash: db.prepare<[string], Row>(`SELECT ${cols} FROM api_keys WHERE key_hash = ?`),
      get: db.prepare<[string], Row>(`SELECT ${cols} FROM api_keys WHERE id = ?`),
      forTeam: db.prepare<[string], Row>(`SELECT ${cols} FROM api_keys WHERE team_id = ? ORDER BY created_at, id`),
      remove: db.prepare('DELETE FROM api_keys WHERE id = ?'),
      removeForTeam: db.prepare<[string], { id: string }>('DELETE FROM api_keys WHERE team_id = ? RETURNING id'),
      touch: db.prepare('UPDATE api_keys SET last_used = ? WHERE id = ?'),
    }
  }

  insert (k: { id: string, teamId: string, createdBy: string, name: string, keyHash: string, keyPrefix: string, createdAtMs: number }): void {
    this.stmts.insert.run(k.id, k.teamId, k.createdBy, k.name, k.keyHash, k.keyPrefix, k.createdAtMs)
  }

  findByHash (hash: string): ApiKey | undefined {
    const r = this.stmts.byHash.get(hash)
    return r === undefined ? undefined : toKey(r)
  }

  get (id: string): ApiKey | undefined {
    const r = this.stmts.get.get(id)
    return r === undefined ? undefined : toKey(r)
  }

  forTeam (teamId: string): ApiKey[] {
    return this.stmts.forTeam.all(teamId).map(toKey)
  }

  remove (id: string): boolean {
    return this.stmts.remove.run(id).changes > 0
  }

  /** Deletes every key of a team; returns their ids so live sessions using them can be closed. */
  removeForTeam (teamId: string): string[] {
    return this.stmts.removeForTeam.all(teamId).map((r) => r.id)
  }

  touch (id: string, nowMs: number): void {
    this.stmts.touch.run(nowMs, id)
  }
}
