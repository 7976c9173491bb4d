import type { Db } from './db.js'

/** One stored API definition version; `routes` is the JSON text of its route list. */
export interface ApiDefinitionRecord { teamId: string, id: string, version: string, draft: boolean, routes: string, createdAtMs: number }

/** One deployed site; `definitions` is the JSON text of its `[{id, version}]`. */
export interface ApiDeploymentRecord { site: string, host: string, subdomain: string | null, teamId: string, definitions: string, createdAtMs: number }

interface DefinitionRow { team_id: string, id: string, version: string, draft: number, routes: string, created_at: number }
interface DeploymentRow { site: string, host: string, subdomain: string | null, team_id: string, definitions: string, created_at: number }

const toDefinition = (r: DefinitionRow): ApiDefinitionRecord =>
  ({ teamId: r.team_id, id: r.id, version: r.version, draft: r.draft === 1, routes: r.routes, createdAtMs: r.created_at })
const toDeployment = (r: DeploymentRow): ApiDeploymentRecord =>
  ({ site: r.site, host: r.host, subdomain: r.subdomain, teamId: r.team_id, definitions: r.definitions, createdAtMs: r.created_at })

/** API definition versions, per team. */
export class ApiDefinitions {
  private readonly stmts

  constructor (db: Db) {
    this.stmts = {
      insert: db.prepare('INSERT INTO api_definitions (team_id, id, version, draft, routes, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      update: db.prepare('UPDATE api_definitions SET draft = ?, routes = ? WHERE team_id = ? AND id = ? AND version = ?'),
      remove: db.prepare('DELETE FROM api_definitions WHERE team_id = ? AND id = ? AND version = ?'),
      get: db.prepare<[string, string, string], DefinitionRow>('SELECT * FROM api_definitions WHERE team_id = ? AND id = ? AND version = ?'),
      forTeam: db.prepare<[string], DefinitionRow>('SELECT * FROM api_definitions WHERE team_id = ? ORDER BY id, created_at, version'),
      byId: db.prepare<[string, string], DefinitionRow>('SELECT * FROM api_definitions WHERE team_id = ? AND id = ? ORDER BY created_at, version'),
    }
  }

  insert (r: ApiDefinitionRecord): void {
    this.stmts.insert.run(r.teamId, r.id, r.version, r.draft ? 1 : 0, r.routes, r.createdAtMs)
  }

  update (r: Pick<ApiDefinitionRecord, 'teamId' | 'id' | 'version' | 'draft' | 'routes'>): void {
    this.stmts.update.run(r.draft ? 1 : 0, r.routes, r.teamId, r.id, r.version)
  }

  remove (teamId: string, id: string, version: string): void {
    this.stmts.remove.run(teamId, id, version)
  }

  get (teamId: string, id: string, version: string): ApiDefinitionRecord | undefined {
    const row = this.stmts.get.get(teamId, id, version)
    return row === undefined ? undefined : toDefinition(row)
  }

  /** The team's definitions, every version, or only those of `id`. */
  list (teamId: string, id?: string): ApiDefinitionRecord[] {
    return (id === undefined ? this.stmts.forTeam.all(teamId) : this.stmts.byId.all(teamId, id)).map(toDefinition)
  }
}

/** Deployed sites. */
export class ApiDeployments {
  private readonly stmts

  constructor (db: Db) {
    this.stmts = {
      put: db.prepare(`INSERT INTO api_deployments (site, host, subdomain, team_id, definitions, created_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (site) DO UPDATE SET definitions = excluded.definitions`),
      remove: db.prepare('DELETE FROM api_deployments WHERE site = ?'),
      get: db.prepare<[string], DeploymentRow>('SELECT * FROM api_deployments WHERE site = ?'),
      forTeam: db.prepare<[string], DeploymentRow>('SELECT * FROM api_deployments WHERE team_id = ? ORDER BY created_at, site'),
      all: db.prepare<[], DeploymentRow>('SELECT * FROM api_deployments ORDER BY created_at, site'),
    }
  }

  /** Creates the site, or replaces the definitions of an existing one (its team and creation time stay). */
  put (r: ApiDeploymentRecord): void {
    this.stmts.put.run(r.site, r.host, r.subdomain, r.teamId, r.definitions, r.createdAtMs)
  }

  remove (site: string): void {
    this.stmts.remove.run(site)
  }

  get (site: string): ApiDeploymentRecord | undefined {
    const row = this.stmts.get.get(site)
    return row === undefined ? undefined : toDeployment(row)
  }

  forTeam (teamId: string): ApiDeploymentRecord[] {
    return this.stmts.forTeam.all(teamId).map(toDeployment)
  }

  all (): ApiDeploymentRecord[] {
    return this.stmts.all.all().map(toDeployment)
  }
}
