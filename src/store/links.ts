import type { Db } from './db.js'

/** A wasmCloud link definition, as the control interface names its fields. */
export interface Link {
  source_id: string
  target: string
  name: string
  wit_namespace: string
  wit_package: string
  interfaces: string[]
  source_config: string[]
  target_config: string[]
}

interface LinkRow { source_id: string, target: string, name: string, wit_namespace: string, wit_package: string, interfaces: string, source_config: string, target_config: string, team_id: string | null }

const toLink = (r: LinkRow): Link & { team: string | null } => ({
  source_id: r.source_id,
  target: r.target,
  name: r.name,
  wit_namespace: r.wit_namespace,
  wit_package: r.wit_package,
  interfaces: JSON.parse(r.interfaces) as string[],
  source_config: JSON.parse(r.source_config) as string[],
  target_config: JSON.parse(r.target_config) as string[],
  team: r.team_id,
})

/** Links (unique per source, namespace, package and link name) and named configs. */
export class Links {
  private readonly stmts

  constructor (db: Db) {
    this.stmts = {
      put: db.prepare(`INSERT INTO links (source_id, target, name, wit_namespace, wit_package, interfaces, source_config, target_config, team_id, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (source_id, wit_namespace, wit_package, name) DO UPDATE SET target = excluded.target, interfaces = excluded.interfaces,
        source_config = excluded.source_config, target_config = excluded.target_config, team_id = excluded.team_id`),
      forSource: db.prepare<[string], LinkRow>('SELECT * FROM links WHERE source_id = ? ORDER BY wit_namespace, wit_package, name'),
      all: db.prepare<[], LinkRow>('SELECT * FROM links ORDER BY source_id, wit_namespace, wit_package, name'),
      remove: db.prepare('DELETE FROM links WHERE source_id = ? AND wit_namespace = ? AND wit_package = ? AND name = ?'),
      removeSource: db.prepare('DELETE FROM links WHERE source_id = ?'),
      putConfig: db.prepare('INSERT INTO configs (name, team_id, entries, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET entries = excluded.entries, team_id = excluded.team_id, updated_at = excluded.updated_at'),
      getConfig: db.prepare<[string], { name: string, team_id: string | null, entries: string }>('SELECT name, team_id, entries FROM configs WHERE name = ?'),
      removeConfig: db.prepare('DELETE FROM configs WHERE name = ?'),
    }
  }

  put (link: Link, team: string | null, nowMs: number): void {
    this.stmts.put.run(link.source_id, link.target, link.name, link.wit_namespace, link.wit_package, JSON.stringify(link.interfaces),
      JSON.stringify(link.source_config), JSON.stringify(link.target_config), team, nowMs)
  }

  forSource (sourceId: string): Array<Link & { team: string | null }> {
    return this.stmts.forSource.all(sourceId).map(toLink)
  }

  all (): Array<Link & { team: string | null }> {
    return this.stmts.all.all().map(toLink)
  }

  remove (sourceId: string, namespace: string, pkg: string, name: string): boolean {
    return this.stmts.remove.run(sourceId, namespace, pkg, name).changes > 0
  }

  removeForSource (sourceId: string): void {
    this.stmts.removeSource.run(sourceId)
  }

  putConfig (name: string, team: string | null, entries: Record<string, string>, nowMs: number): void {
    this.stmts.putConfig.run(name, team, JSON.stringify(entries), nowMs)
  }

  getConfig (name: string): { team: string | null, entries: Record<string, string> } | undefined {
    const r = this.stmts.getConfig.get(name)
    return r === undefined ? undefined : { team: r.team_id, entries: JSON.parse(r.entries) as Record<string, string> }
  }

  removeConfig (name: string): boolean {
    return this.stmts.removeConfig.run(name).changes > 0
  }
}
