import type { Db } from './db.js'

/** What the user last asked an actor to be: it comes back so after a restart. */
export type SpawnedState = 'running' | 'paused' | 'stopped'

/** An actor a user spawned at run time; `options` is the JSON object the kind was given. */
export interface SpawnedActorRecord {
  id: string
  kind: string
  name: string
  /** The owning team; null for a system-owned actor (spawned by the runtime itself). */
  teamId: string | null
  options: string
  state: SpawnedState
  createdAtMs: number
  updatedAtMs: number
}

interface Row { id: string, kind: string, name: string, team_id: string | null, options: string, state: SpawnedState, created_at: number, updated_at: number }

const toRecord = (r: Row): SpawnedActorRecord => ({
  id: r.id, kind: r.kind, name: r.name, teamId: r.team_id, options: r.options, state: r.state, createdAtMs: r.created_at, updatedAtMs: r.updated_at,
})

/** Run-time spawned actors, in the order they were spawned (the order they are restored in). */
export class SpawnedActors {
  private readonly stmts
  private readonly insertTx

  constructor (db: Db) {
    this.stmts = {
      insert: db.prepare(`INSERT INTO spawned_actors (id, kind, name, team_id, options, state, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      sameName: db.prepare('DELETE FROM spawned_actors WHERE name = ?'),
      setState: db.prepare('UPDATE spawned_actors SET state = ?, updated_at = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM spawned_actors WHERE id = ?'),
      removeTeam: db.prepare<[string], { id: string }>('DELETE FROM spawned_actors WHERE team_id = ? RETURNING id'),
      all: db.prepare<[], Row>('SELECT * FROM spawned_actors ORDER BY rowid'),
    }
    // A row with the same name can only be one that could not be restored (its kind is gone): the registry let the
    // user take the name again, and the newer actor is the one that was acknowledged.
    this.insertTx = db.transaction((r: SpawnedActorRecord): void => {
      this.stmts.sameName.run(r.name)
      this.stmts.insert.run(r.id, r.kind, r.name, r.teamId, r.options, r.state, r.createdAtMs, r.updatedAtMs)
    })
  }

  insert (r: SpawnedActorRecord): void {
    this.insertTx(r)
  }

  setState (id: string, state: SpawnedState, nowMs: number): void {
    this.stmts.setState.run(state, nowMs, id)
  }

  remove (id: string): void {
    this.stmts.remove.run(id)
  }

  /** Removes a team's rows and returns their ids. */
  removeTeam (teamId: string): string[] {
    return this.stmts.removeTeam.all(teamId).map((r) => r.id)
  }

  all (): SpawnedActorRecord[] {
    return this.stmts.all.all().map(toRecord)
  }
}
