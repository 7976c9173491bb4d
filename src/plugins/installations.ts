import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import { ColonyError } from '../errors.js'
import type { Logger } from '../log.js'
import { canAccess, type Identity } from '../auth/identity.js'
import type { ComponentRecord, InstallationRecord, PluginRecord, Store } from '../store/index.js'
import { definitionOf } from './registry.js'
import { checkParameters, checkPriority } from './specs.js'
import type { InstallationView, PluginActivation } from './types.js'

export interface InstallationCreation { name: string, version: string, priority: number, parameters?: Record<string, string> }
export interface InstallationUpdate { priority: number, parameters?: Record<string, string> }

const installationNotFound = (id: string): ColonyError =>
  new ColonyError('plugin_installation_not_found', `no plugin installation ${id.slice(0, 80)} on this component`)

/**
 * Plugins installed on components (Golem's `/v1/components/{id}/latest/plugins/installs`). A component takes
 * plugins its own team registered, by name and version, each at most once; a component another team owns is 404.
 * Installations follow the component, not its versions: every version's workers see the same list.
 */
export class PluginInstallations {
  constructor (private readonly o: { store: Store, clock: Clock, log: Logger }) {}

  install (who: Identity, componentId: string, c: InstallationCreation): InstallationView {
    const component = this.component(who, componentId)
    const priority = checkPriority(c.priority)
    const parameters = checkParameters(c.parameters)
    const plugin = this.o.store.plugins.named(component.teamId, c.name, c.version)
    if (plugin === undefined || !inScope(plugin, component.id)) {
      throw new ColonyError('plugin_not_found', `no plugin ${c.name.slice(0, 80)} ${c.version.slice(0, 40)} available to this component`)
    }
    if (this.o.store.plugins.installed(component.id, plugin.id) !== undefined) {
      throw new ColonyError('plugin_already_installed', `${plugin.name} ${plugin.version} is already installed on this component`)
    }
    const record: InstallationRecord = {
      id: randomUUID(), componentId: component.id, pluginId: plugin.id, priority, parameters: JSON.stringify(parameters), createdAtMs: this.o.clock.now(),
    }
    this.o.store.plugins.install(record)
    this.o.log.info({ installationId: record.id, componentId, pluginId: plugin.id, by: who.userId }, 'plugin installed')
    return view(record, plugin)
  }

  list (who: Identity, componentId: string): InstallationView[] {
    const component = this.component(who, componentId)
    return this.o.store.plugins.onComponent(component.id).map((i) => view(i, this.plugin(i)))
  }

  update (who: Identity, componentId: string, installationId: string, u: InstallationUpdate): InstallationView {
    const found = this.find(who, componentId, installationId)
    const priority = checkPriority(u.priority)
    const parameters = checkParameters(u.parameters)
    this.o.store.plugins.updateInstallation(found.id, priority, JSON.stringify(parameters))
    return view({ ...found, priority, parameters: JSON.stringify(parameters) }, this.plugin(found))
  }

  uninstall (who: Identity, componentId: string, installationId: string): void {
    const found = this.find(who, componentId, installationId)
    this.o.store.plugins.uninstall(found.id)
    this.o.log.info({ installationId, componentId, by: who.userId }, 'plugin uninstalled')
  }

  /**
   * The installation a worker of `componentId` activates or deactivates, for the worker runtime. An unknown id,
   * another component's installation, or a component `as` may not see: plugin_installation_not_found (404).
   * A deleted plugin's installation still resolves (Golem keeps it working). `as` undefined: the runtime itself
   * (a worker recovering at start-up), which sees every team's.
   */
  resolveInstallation (as: Identity | undefined, componentId: string, installationId: string): PluginActivation {
    const found = this.find(as, componentId, installationId)
    return activation(found, this.plugin(found))
  }

  /**
   * Every installation of the component as an activation, lowest priority first: what a new worker starts with
   * (Golem activates a component's installed plugins on each new worker: `Create.initialActivePlugins`).
   * component_not_found when `as` may not see the component.
   */
  initialActivations (as: Identity | undefined, componentId: string): PluginActivation[] {
    const record = this.o.store.components.get(componentId)
    if (record === undefined || !canAccess(as, record.teamId)) throw new ColonyError('component_not_found', `no component ${componentId.slice(0, 80)}`)
    return this.o.store.plugins.onComponent(record.id).map((i) => activation(i, this.plugin(i)))
  }

  private find (who: Identity | undefined, componentId: string, installationId: string): InstallationRecord {
    const component = this.o.store.components.get(componentId)
    const found = this.o.store.plugins.installation(installationId)
    if (component === undefined || !canAccess(who, component.teamId) || found === undefined || found.componentId !== component.id) {
      throw installationNotFound(installationId)
    }
    return found
  }

  private component (who: Identity, id: string): ComponentRecord {
    const record = this.o.store.components.get(id)
    if (record === undefined || !canAccess(who, record.teamId)) throw new ColonyError('component_not_found', `no component ${id.slice(0, 80)}`)
    return record
  }

  private plugin (i: InstallationRecord): PluginRecord {
    const plugin = this.o.store.plugins.get(i.pluginId)
    // The foreign key keeps every installation's plugin row (deletes are soft).
    if (plugin === undefined) throw new ColonyError('internal_error', `installation ${i.id} names a missing plugin`)
    return plugin
  }
}

function inScope (plugin: PluginRecord, componentId: string): boolean {
  const scope = definitionOf(plugin).scope
  return scope.type === 'Global' || scope.componentId === componentId
}

function activation (i: InstallationRecord, plugin: PluginRecord): PluginActivation {
  return {
    installationId: i.id, pluginId: plugin.id, name: plugin.name, version: plugin.version, kind: definitionOf(plugin).specs.type,
    parameters: JSON.parse(i.parameters) as Record<string, string>,
  }
}

function view (i: InstallationRecord, plugin: PluginRecord): InstallationView {
  return {
    id: i.id, pluginId: plugin.id, name: plugin.name, version: plugin.version, priority: i.priority,
    parameters: JSON.parse(i.parameters) as Record<string, string>,
  }
}
