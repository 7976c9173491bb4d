import type { Db } from './db.js'

/**
 * A provider started at run time; `annotations` is a JSON object of strings, `origin` who started it (`nats`, `rest`),
 * `teamId` the team whose actor it is (null: the host's own).
 */
export interface StartedProviderRecord { id: string, ref: string, annotations: string, origin: string, teamId: string | null, startedAtMs: number }

interface Row { id: string, ref: string, annotations: string, origin: string, team_id: string | null, started_at: number }

const toRecord = (r: Row): StartedProviderRecord =>
  ({ id: r.id, ref: r.ref, annotations: r.annotations, origin: r.origin, teamId: r.team_id, startedAtMs: r.started_at })

/** Run-time started providers, in the order they were first started (the order they are started again in). */
export class StartedProviders {
  private readonly stmts

  constructor (db: Db) {
    this.stmts = {
      // Started again under the same id: the newer reference and annotations win, the place in the order stays.
      put: db.prepare(`INSERT INTO started_providers (id, ref, annotations, origin, team_id, started_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET ref = excluded.ref, annotations = excluded.annotations, origin = excluded.origin,
          team_id = excluded.team_id, started_at = excluded.started_at`),
      remove: db.prepare('DELETE FROM started_providers WHERE id = ?'),
      all: db.prepare<[], Row>('SELECT * FROM started_providers ORDER BY rowid'),
    }
  }

  put (r: StartedProviderRecord): void {
    this.stmts.put.run(r.id, r.ref, r.annotations, r.origin, r.teamId, r.startedAtMs)
  }

  remove (id: string): void {
    this.stmts.remove.run(id)
  }

  all (): StartedProviderRecord[] {
    return this.stmts.all.all().map(toRecord)
  }
}
