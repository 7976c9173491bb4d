import type { Db } from './db.js'

export interface ComponentRecord { id: string, teamId: string, envId: string, name: string, createdAtMs: number }
export interface Revision { componentId: string, version: number, sha256: string, size: number, metadata: string, createdAtMs: number }
/** A component's last scale: `settings` and `origin` are JSON objects, kept as the scaling layer wrote them. */
export interface ScaleRecord { componentId: string, instances: number, settings: string, origin: string, updatedAtMs: number }

interface ComponentRow { id: string, team_id: string, env_id: string, name: string, created_at: number }
interface RevisionRow { component_id: string, version: number, sha256: string, size: number, metadata: string, created_at: number }
interface ScaleRow { component_id: string, instances: number, settings: string, origin: string, updated_at: number }

const toComponent = (r: ComponentRow): ComponentRecord => ({ id: r.id, teamId: r.team_id, envId: r.env_id, name: r.name, createdAtMs: r.created_at })
const toScale = (r: ScaleRow): ScaleRecord => ({
  componentId: r.component_id, instances: r.instances, settings: r.settings, origin: r.origin, updatedAtMs: r.updated_at,
})
const toRevision = (r: RevisionRow): Revision => ({
  componentId: r.component_id, version: r.version, sha256: r.sha256, size: r.size, metadata: r.metadata, createdAtMs: r.created_at,
})

/** The component registry: components and their numbered revisions (the bytes are files, see the service). */
export class Components {
  private readonly stmts

  constructor (db: Db) {
    this.stmts = {
      insert: db.prepare('INSERT INTO components (id, team_id, env_id, name, created_at) VALUES (?, ?, ?, ?, ?)'),
      get: db.prepare<[string], ComponentRow>('SELECT * FROM components WHERE id = ?'),
      byName: db.prepare<[string, string, string], ComponentRow>('SELECT * FROM components WHERE team_id = ? AND env_id = ? AND name = ?'),
      inEnv: db.prepare<[string, string], ComponentRow>('SELECT * FROM components WHERE team_id = ? AND env_id = ? ORDER BY name'),
      inEnvAll: db.prepare<[string], ComponentRow>('SELECT * FROM components WHERE env_id = ? ORDER BY name'),
      named: db.prepare<[string], ComponentRow>('SELECT * FROM components WHERE name = ? ORDER BY created_at'),
      remove: db.prepare('DELETE FROM components WHERE id = ?'),
      addRevision: db.prepare('INSERT INTO component_revisions (component_id, version, sha256, size, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      latest: db.prepare<[string], RevisionRow>('SELECT * FROM component_revisions WHERE component_id = ? ORDER BY version DESC LIMIT 1'),
      revision: db.prepare<[string, number], RevisionRow>('SELECT * FROM component_revisions WHERE component_id = ? AND version = ?'),
      removeRevisions: db.prepare('DELETE FROM component_revisions WHERE component_id = ?'),
      setScale: db.prepare(`INSERT INTO component_scales (component_id, instances, settings, origin, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (component_id) DO UPDATE SET instances = excluded.instances, settings = excluded.settings, origin = excluded.origin,
        updated_at = excluded.updated_at`),
      removeScale: db.prepare('DELETE FROM component_scales WHERE component_id = ?'),
      scales: db.prepare<[], ScaleRow>('SELECT * FROM component_scales ORDER BY updated_at, component_id'),
      scale: db.prepare<[string], ScaleRow>('SELECT * FROM component_scales WHERE component_id = ?'),
    }
  }

  insert (c: ComponentRecord): void {
    this.stmts.insert.run(c.id, c.teamId, c.envId, c.name, c.createdAtMs)
  }

  get (id: string): ComponentRecord | undefined {
    const r = this.stmts.get.get(id)
    return r === undefined ? undefined : toComponent(r)
  }

  byName (teamId: string, envId: string, name: string): ComponentRecord | undefined {
    const r = this.stmts.byName.get(teamId, envId, name)
    return r === undefined ? undefined : toComponent(r)
  }

  /** The components of an environment; every team's when `teamId` is undefined (platform admins). */
  inEnv (envId: string, teamId: string | undefined): ComponentRecord[] {
    return (teamId === undefined ? this.stmts.inEnvAll.all(envId) : this.stmts.inEnv.all(teamId, envId)).map(toComponent)
  }

  /** Every component with this name, in any team and environment. */
  named (name: string): ComponentRecord[] {
    return this.stmts.named.all(name).map(toComponent)
  }

  remove (id: string): void {
    this.stmts.removeScale.run(id)
    this.stmts.removeRevisions.run(id)
    this.stmts.remove.run(id)
  }

  setScale (s: ScaleRecord): void {
    this.stmts.setScale.run(s.componentId, s.instances, s.settings, s.origin, s.updatedAtMs)
  }

  removeScale (componentId: string): void {
    this.stmts.removeScale.run(componentId)
  }

  /** Every remembered scale, oldest first (the order they are restored in). */
  scales (): ScaleRecord[] {
    return this.stmts.scales.all().map(toScale)
  }

  scale (componentId: string): ScaleRecord | undefined {
    const r = this.stmts.scale.get(componentId)
    return r === undefined ? undefined : toScale(r)
  }

  addRevision (r: Revision): void {
    this.stmts.addRevision.run(r.componentId, r.version, r.sha256, r.size, r.metadata, r.createdAtMs)
  }

  latest (componentId: string): Revision | undefined {
    const r = this.stmts.latest.get(componentId)
    return r === undefined ? undefined : toRevision(r)
  }

  revision (componentId: string, version: number): Revision | undefined {
    const r = this.stmts.revision.get(componentId, version)
    return r === undefined ? undefined : toRevision(r)
  }
}
