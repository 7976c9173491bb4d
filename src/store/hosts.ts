import type { Db } from './db.js'

export type HostStatus = 'pending' | 'online' | 'offline' | 'draining' | 'unreachable'
export type HostType = 'regular' | 'byoc'

/** A host's row. `apiKeySealed` is a joined Colony's API key, sealed by the hosts domain (never plaintext here). */
export interface HostRecord {
  id: string
  type: HostType
  teamId: string | null
  provider: string | null
  availabilityZone: string | null
  arch: string | null
  cpuCores: number | null
  memoryMb: number | null
  diskGb: number | null
  address: string | null
  latticeHostId: string | null
  apiKeySealed: string | null
  status: HostStatus
  lastHeartbeatMs: number | null
  createdBy: string
  createdAtMs: number
  updatedAtMs: number
}

interface Row {
  id: string, type: HostType, team_id: string | null, provider: string | null, availability_zone: string | null, arch: string | null,
  cpu_cores: number | null, memory_mb: number | null, disk_gb: number | null, address: string | null, lattice_host_id: string | null,
  api_key_sealed: string | null, status: HostStatus, last_heartbeat_at: number | null, created_by: string, created_at: number, updated_at: number
}

const toRecord = (r: Row): HostRecord => ({
  id: r.id, type: r.type, teamId: r.team_id, provider: r.provider, availabilityZone: r.availability_zone, arch: r.arch, cpuCores: r.cpu_cores,
  memoryMb: r.memory_mb, diskGb: r.disk_gb, address: r.address, latticeHostId: r.lattice_host_id, apiKeySealed: r.api_key_sealed,
  status: r.status, lastHeartbeatMs: r.last_heartbeat_at, createdBy: r.created_by, createdAtMs: r.created_at, updatedAtMs: r.updated_at,
})

export interface RegisteredSpecs {
  arch: string | null, cpuCores: number | null, memoryMb: number | null, diskGb: number | null, address: string, latticeHostId: string | null, apiKeySealed: string | null
}

export interface RemoteCapsuleRow { capsuleId: string, hostId: string, teamId: string | null, view: string }

/** Hosts, their tags, registration and refresh tokens (hashes only), and the capsules this Colony created on them. SQL only. */
export class Hosts {
  private readonly stmts

  constructor (db: Db) {
    this.stmts = {
      insert: db.prepare('INSERT INTO hosts (id, type, team_id, provider, availability_zone, status, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, \'pending\', ?, ?, ?)'),
      get: db.prepare<[string], Row>('SELECT * FROM hosts WHERE id = ?'),
      all: db.prepare<[], Row>('SELECT * FROM hosts ORDER BY created_at, id'),
      remove: db.prepare('DELETE FROM hosts WHERE id = ?'),
      register: db.prepare('UPDATE hosts SET status = \'online\', arch = ?, cpu_cores = ?, memory_mb = ?, disk_gb = ?, address = ?, lattice_host_id = ?, api_key_sealed = ?, last_heartbeat_at = ?, updated_at = ? WHERE id = ? AND status = \'pending\''),
      setStatus: db.prepare('UPDATE hosts SET status = ?, updated_at = ? WHERE id = ?'),
      beat: db.prepare('UPDATE hosts SET last_heartbeat_at = ?, address = ? WHERE id = ?'),
      tags: db.prepare<[string], { tag: string }>('SELECT tag FROM host_tags WHERE host_id = ? ORDER BY tag'),
      addTag: db.prepare('INSERT OR IGNORE INTO host_tags (host_id, tag) VALUES (?, ?)'),
      removeTag: db.prepare('DELETE FROM host_tags WHERE host_id = ? AND tag = ?'),
      insertToken: db.prepare('INSERT INTO host_tokens (token_hash, host_id, expires_at) VALUES (?, ?, ?)'),
      consumeToken: db.prepare<[number, string, number], { host_id: string }>('UPDATE host_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING host_id'),
      insertRefresh: db.prepare('INSERT INTO host_refresh_tokens (token_hash, host_id, family, expires_at) VALUES (?, ?, ?, ?)'),
      refresh: db.prepare<[string], { host_id: string, family: string, expires_at: number, revoked_at: number | null }>('SELECT host_id, family, expires_at, revoked_at FROM host_refresh_tokens WHERE token_hash = ?'),
      revokeRefresh: db.prepare('UPDATE host_refresh_tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL'),
      revokeFamily: db.prepare('UPDATE host_refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL'),
      insertCapsule: db.prepare('INSERT OR REPLACE INTO host_capsules (capsule_id, host_id, team_id, view) VALUES (?, ?, ?, ?)'),
      capsule: db.prepare<[string], { capsule_id: string, host_id: string, team_id: string | null, view: string }>('SELECT * FROM host_capsules WHERE capsule_id = ?'),
      capsules: db.prepare<[], { capsule_id: string, host_id: string, team_id: string | null, view: string }>('SELECT * FROM host_capsules ORDER BY rowid'),
      removeCapsule: db.prepare('DELETE FROM host_capsules WHERE capsule_id = ?'),
    }
  }

  insert (h: { id: string, type: HostType, teamId: string | null, provider: string | null, availabilityZone: string | null, createdBy: string, nowMs: number }): void {
    this.stmts.insert.run(h.id, h.type, h.teamId, h.provider, h.availabilityZone, h.createdBy, h.nowMs, h.nowMs)
  }

  get (id: string): HostRecord | undefined {
    const r = this.stmts.get.get(id)
    return r === undefined ? undefined : toRecord(r)
  }

  all (): HostRecord[] {
    return this.stmts.all.all().map(toRecord)
  }

  /** The row and everything hanging off it (tags, tokens, capsule records) go. */
  remove (id: string): boolean {
    return this.stmts.remove.run(id).changes > 0
  }

  /** pending → online with the machine's specs; false when the host is not pending (Wrenn's 0-rows case). */
  register (id: string, s: RegisteredSpecs, nowMs: number): boolean {
    return this.stmts.register.run(s.arch, s.cpuCores, s.memoryMb, s.diskGb, s.address, s.latticeHostId, s.apiKeySealed, nowMs, nowMs, id).changes > 0
  }

  setStatus (id: string, status: HostStatus, nowMs: number): void {
    this.stmts.setStatus.run(status, nowMs, id)
  }

  beat (id: string, nowMs: number, address: string | null): void {
    this.stmts.beat.run(nowMs, address, id)
  }

  tags (id: string): string[] {
    return this.stmts.tags.all(id).map((r) => r.tag)
  }

  addTag (id: string, tag: string): void {
    this.stmts.addTag.run(id, tag)
  }

  removeTag (id: string, tag: string): boolean {
    return this.stmts.removeTag.run(id, tag).changes > 0
  }

  insertToken (hash: string, hostId: string, expiresAtMs: number): void {
    this.stmts.insertToken.run(hash, hostId, expiresAtMs)
  }

  /** The one atomic consume of a registration token: its host, or undefined (unknown, used or expired). */
  consumeToken (hash: string, nowMs: number): string | undefined {
    return this.stmts.consumeToken.get(nowMs, hash, nowMs)?.host_id
  }

  insertRefresh (hash: string, hostId: string, family: string, expiresAtMs: number): void {
    this.stmts.insertRefresh.run(hash, hostId, family, expiresAtMs)
  }

  refresh (hash: string): { hostId: string, family: string, expiresAtMs: number, revokedAtMs: number | null } | undefined {
    const r = this.stmts.refresh.get(hash)
    return r === undefined ? undefined : { hostId: r.host_id, family: r.family, expiresAtMs: r.expires_at, revokedAtMs: r.revoked_at }
  }

  /** True when this call revoked it (false: someone else got there first). */
  revokeRefresh (hash: string, nowMs: number): boolean {
    return this.stmts.revokeRefresh.run(nowMs, hash).changes > 0
  }

  revokeFamily (family: string, nowMs: number): void {
    this.stmts.revokeFamily.run(nowMs, family)
  }

  putCapsule (c: RemoteCapsuleRow): void {
    this.stmts.insertCapsule.run(c.capsuleId, c.hostId, c.teamId, c.view)
  }

  capsule (id: string): RemoteCapsuleRow | undefined {
    const r = this.stmts.capsule.get(id)
    return r === undefined ? undefined : { capsuleId: r.capsule_id, hostId: r.host_id, teamId: r.team_id, view: r.view }
  }

  capsules (): RemoteCapsuleRow[] {
    return this.stmts.capsules.all().map((r) => ({ capsuleId: r.capsule_id, hostId: r.host_id, teamId: r.team_id, view: r.view }))
  }

  removeCapsule (id: string): void {
    this.stmts.removeCapsule.run(id)
  }
}
