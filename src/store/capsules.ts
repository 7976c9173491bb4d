import type { Db } from './db.js'

export type CapsuleStatus = 'pending' | 'running' | 'paused' | 'hibernated' | 'missing' | 'error'

/** A capsule's row: `spec` is the JSON the capsules domain wrote (template, limits, network, env). */
export interface CapsuleRecord {
  id: string
  teamId: string | null
  status: CapsuleStatus
  spec: string
  reason: string | null
  createdAtMs: number
  startedAtMs: number | null
  lastActiveAtMs: number | null
  lastUpdatedMs: number
}

export interface SnapshotRow { id: string, teamId: string | null, name: string, spec: string, sizeBytes: number, createdAtMs: number }

interface Row {
  id: string, team_id: string | null, status: CapsuleStatus, spec: string, reason: string | null, created_at: number, started_at: number | null,
  last_active_at: number | null, last_updated: number
}
interface SnapRow { id: string, team_id: string | null, name: string, spec: string, size_bytes: number, created_at: number }

const toRecord = (r: Row): CapsuleRecord => ({
  id: r.id, teamId: r.team_id, status: r.status, spec: r.spec, reason: r.reason, createdAtMs: r.created_at, startedAtMs: r.started_at,
  lastActiveAtMs: r.last_active_at, lastUpdatedMs: r.last_updated,
})
const toSnapshot = (r: SnapRow): SnapshotRow => ({ id: r.id, teamId: r.team_id, name: r.name, spec: r.spec, sizeBytes: r.size_bytes, createdAtMs: r.created_at })

export type CapsulePatch = Partial<Pick<CapsuleRecord, 'status' | 'reason' | 'startedAtMs' | 'lastActiveAtMs'>>

/** Capsules and their snapshots, SQL only (the lifecycle is src/capsules/'s). */
export class Capsules {
  private readonly stmts

  constructor (private readonly db: Db) {
    this.stmts = {
      insert: db.prepare('INSERT INTO capsules (id, team_id, status, spec, reason, created_at, started_at, last_active_at, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      get: db.prepare<[string], Row>('SELECT * FROM capsules WHERE id = ?'),
      all: db.prepare<[], Row>('SELECT * FROM capsules ORDER BY created_at, id'),
      remove: db.prepare('DELETE FROM capsules WHERE id = ?'),
      insertSnapshot: db.prepare('INSERT INTO capsule_snapshots (id, team_id, name, spec, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      snapshot: db.prepare<[string], SnapRow>('SELECT * FROM capsule_snapshots WHERE id = ?'),
      snapshotNamed: db.prepare<[string, string], SnapRow>("SELECT * FROM capsule_snapshots WHERE COALESCE(team_id, '') = ? AND name = ?"),
      snapshots: db.prepare<[], SnapRow>('SELECT * FROM capsule_snapshots ORDER BY created_at, id'),
      removeSnapshot: db.prepare('DELETE FROM capsule_snapshots WHERE id = ?'),
    }
  }

  insert (c: CapsuleRecord): void {
    this.stmts.insert.run(c.id, c.teamId, c.status, c.spec, c.reason, c.createdAtMs, c.startedAtMs, c.lastActiveAtMs, c.lastUpdatedMs)
  }

  get (id: string): CapsuleRecord | undefined {
    const r = this.stmts.get.get(id)
    return r === undefined ? undefined : toRecord(r)
  }

  all (): CapsuleRecord[] {
    return this.stmts.all.all().map(toRecord)
  }

  /** Changes the given fields; `lastUpdatedMs` is always set. */
  update (id: string, patch: CapsulePatch, lastUpdatedMs: number): void {
    const cols: string[] = ['last_updated = ?']
    const values: unknown[] = [lastUpdatedMs]
    const map: Record<keyof CapsulePatch, string> = { status: 'status', reason: 'reason', startedAtMs: 'started_at', lastActiveAtMs: 'last_active_at' }
    for (const [k, col] of Object.entries(map) as Array<[keyof CapsulePatch, string]>) {
      if (k in patch) {
        cols.push(`${col} = ?`)
        values.push(patch[k] ?? null)
      }
    }
    this.db.prepare(`UPDATE capsules SET ${cols.join(', ')} WHERE id = ?`).run(...values, id)
  }

  /** Replaces the spec (a session's env). */
  updateSpec (id: string, spec: string, lastUpdatedMs: number): void {
    this.db.prepare('UPDATE capsules SET spec = ?, last_updated = ? WHERE id = ?').run(spec, lastUpdatedMs, id)
  }

  remove (id: string): boolean {
    return this.stmts.remove.run(id).changes > 0
  }

  insertSnapshot (s: SnapshotRow): void {
    this.stmts.insertSnapshot.run(s.id, s.teamId, s.name, s.spec, s.sizeBytes, s.createdAtMs)
  }

  snapshot (id: string): SnapshotRow | undefined {
    const r = this.stmts.snapshot.get(id)
    return r === undefined ? undefined : toSnapshot(r)
  }

  snapshotNamed (teamId: string | null, name: string): SnapshotRow | undefined {
    const r = this.stmts.snapshotNamed.get(teamId ?? '', name)
    return r === undefined ? undefined : toSnapshot(r)
  }

  snapshots (): SnapshotRow[] {
    return this.stmts.snapshots.all().map(toSnapshot)
  }

  removeSnapshot (id: string): boolean {
    return this.stmts.removeSnapshot.run(id).changes > 0
  }
}
