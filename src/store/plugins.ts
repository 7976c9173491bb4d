import type { Db } from './db.js'

/**
 * A registered plugin. `definition` is the JSON the domain wrote (description, icon, homepage, specs, scope);
 * `deletedAtMs` is set once deleted (the row stays for the installations that use it).
 */
export interface PluginRecord { id: string, teamId: string, name: string, version: string, definition: string, createdAtMs: number, deletedAtMs: number | null }

/** A plugin installed on a component; `parameters` is a JSON object of strings. */
export interface InstallationRecord { id: string, componentId: string, pluginId: string, priority: number, parameters: string, createdAtMs: number }

interface PluginRow { id: string, team_id: string, name: string, version: string, definition: string, created_at: number, deleted_at: number | null }
interface InstallationRow { id: string, component_id: string, plugin_id: string, priority: number, parameters: string, created_at: number }

const toPlugin = (r: PluginRow): PluginRecord => ({
  id: r.id, teamId: r.team_id, name: r.name, version: r.version, definition: r.definition, createdAtMs: r.created_at, deletedAtMs: r.deleted_at,
})
const toInstallation = (r: InstallationRow): InstallationRecord => ({
  id: r.id, componentId: r.component_id, pluginId: r.plugin_id, priority: r.priority, parameters: r.parameters, createdAtMs: r.created_at,
})

/** Registered plugins and their installations on components. */
export class Plugins {
  private readonly stmts

  constructor (db: Db) {
    this.stmts = {
      insert: db.prepare('INSERT INTO plugins (id, team_id, name, version, definition, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      get: db.prepare<[string], PluginRow>('SELECT * FROM plugins WHERE id = ?'),
      named: db.prepare<[string, string, string], PluginRow>('SELECT * FROM plugins WHERE team_id = ? AND name = ? AND version = ? AND deleted_at IS NULL'),
      forTeam: db.prepare<[string], PluginRow>('SELECT * FROM plugins WHERE team_id = ? AND deleted_at IS NULL ORDER BY name, created_at'),
      all: db.prepare<[], PluginRow>('SELECT * FROM plugins WHERE deleted_at IS NULL ORDER BY name, created_at'),
      markDeleted: db.prepare('UPDATE plugins SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL'),
      install: db.prepare('INSERT INTO plugin_installations (id, component_id, plugin_id, priority, parameters, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      installation: db.prepare<[string], InstallationRow>('SELECT * FROM plugin_installations WHERE id = ?'),
      installed: db.prepare<[string, string], InstallationRow>('SELECT * FROM plugin_installations WHERE component_id = ? AND plugin_id = ?'),
      onComponent: db.prepare<[string], InstallationRow>('SELECT * FROM plugin_installations WHERE component_id = ? ORDER BY priority, created_at, id'),
      updateInstallation: db.prepare('UPDATE plugin_installations SET priority = ?, parameters = ? WHERE id = ?'),
      uninstall: db.prepare('DELETE FROM plugin_installations WHERE id = ?'),
    }
  }

  insert (p: Omit<PluginRecord, 'deletedAtMs'>): void {
    this.stmts.insert.run(p.id, p.teamId, p.name, p.version, p.definition, p.createdAtMs)
  }

  /** A plugin by id, deleted ones included (installations still name them). */
  get (id: string): PluginRecord | undefined {
    const r = this.stmts.get.get(id)
    return r === undefined ? undefined : toPlugin(r)
  }

  /** The team's live plugin with this name and version. */
  named (teamId: string, name: string, version: string): PluginRecord | undefined {
    const r = this.stmts.named.get(teamId, name, version)
    return r === undefined ? undefined : toPlugin(r)
  }

  /** Live plugins of a team; every team's when `teamId` is undefined (platform admins). */
  list (teamId: string | undefined): PluginRecord[] {
    return (teamId === undefined ? this.stmts.all.all() : this.stmts.forTeam.all(teamId)).map(toPlugin)
  }

  /** True when it was live until now. */
  markDeleted (id: string, atMs: number): boolean {
    return this.stmts.markDeleted.run(atMs, id).changes > 0
  }

  install (i: InstallationRecord): void {
    this.stmts.install.run(i.id, i.componentId, i.pluginId, i.priority, i.parameters, i.createdAtMs)
  }

  installation (id: string): InstallationRecord | undefined {
    const r = this.stmts.installation.get(id)
    return r === undefined ? undefined : toInstallation(r)
  }

  installed (componentId: string, pluginId: string): InstallationRecord | undefined {
    const r = this.stmts.installed.get(componentId, pluginId)
    return r === undefined ? undefined : toInstallation(r)
  }

  /** A component's installations, lowest priority number first. */
  onComponent (componentId: string): InstallationRecord[] {
    return this.stmts.onComponent.all(componentId).map(toInstallation)
  }

  updateInstallation (id: string, priority: number, parameters: string): void {
    this.stmts.updateInstallation.run(priority, parameters, id)
  }

  uninstall (id: string): boolean {
    return this.stmts.uninstall.run(id).changes > 0
  }
}
