import { randomUUID } from 'node:crypto'
import type { Clock } from '../clock.js'
import { ColonyError } from '../errors.js'
import type { Logger } from '../log.js'
import { canAccess, type Identity } from '../auth/identity.js'
import type { ComponentRecord, PluginRecord, Store } from '../store/index.js'
import { checkCreation } from './specs.js'
import type { PluginCreation, PluginScope, PluginSpecs, PluginView } from './types.js'

/** The account id meaning "the caller" (its active team), besides the caller's user id. */
export const ME = 'me'

interface Definition { description: string, icon: string, homepage: string, specs: PluginSpecs, scope: PluginScope }

export const pluginNotFound = (id: string): ColonyError => new ColonyError('plugin_not_found', `no plugin ${id.slice(0, 80)}`)

/**
 * Registered plugins. Golem registers plugins per account; Colony's owner of everything is the team, so an
 * account id is a team id the caller may act for (its user id and `me` name its active team). Another team's
 * plugins are 404, as its components are.
 */
export class PluginRegistry {
  constructor (private readonly o: { store: Store, clock: Clock, log: Logger }) {}

  /** The team an account id names for `who`; account_not_found for anything else (another team's included). */
  accountTeam (who: Identity, accountId: string): string {
    const team = accountId === ME || accountId === who.userId ? who.teamId : accountId
    if (!canAccess(who, team) || this.o.store.teams.get(team) === undefined) {
      throw new ColonyError('account_not_found', `no account ${accountId.slice(0, 80)} for this credential (use your user id, a team id of yours, or "me")`)
    }
    return team
  }

  register (who: Identity, accountId: string, creation: PluginCreation): PluginView {
    const teamId = this.accountTeam(who, accountId)
    const { specs, scope } = checkCreation(creation)
    if (specs.type === 'OplogProcessor') {
      const component = this.component(who, teamId, specs.componentId, 'specs.componentId')
      if (this.o.store.components.revision(component.id, specs.componentVersion) === undefined) {
        throw new ColonyError('revision_not_found', `component ${component.id} has no version ${specs.componentVersion}`, { details: { field: 'specs.componentVersion' } })
      }
    }
    if (scope.type === 'Component') this.component(who, teamId, scope.componentId, 'scope.componentId')
    if (this.o.store.plugins.named(teamId, creation.name, creation.version) !== undefined) {
      throw new ColonyError('plugin_exists', `plugin ${creation.name} ${creation.version} is already registered`)
    }
    const definition: Definition = { description: creation.description ?? '', icon: creation.icon ?? '', homepage: creation.homepage ?? '', specs, scope }
    const record = { id: randomUUID(), teamId, name: creation.name, version: creation.version, definition: JSON.stringify(definition), createdAtMs: this.o.clock.now() }
    this.o.store.plugins.insert(record)
    this.o.log.info({ pluginId: record.id, name: record.name, version: record.version, kind: specs.type, team: teamId, by: who.userId }, 'plugin registered')
    return view({ ...record, deletedAtMs: null })
  }

  list (who: Identity, accountId: string): PluginView[] {
    return this.o.store.plugins.list(this.accountTeam(who, accountId)).map(view)
  }

  get (who: Identity, id: string): PluginView {
    return view(this.visible(who, id))
  }

  /**
   * Soft delete, as Golem: the plugin disappears from reads and its name and version are free again, but the
   * installations that use it stay and keep working (a running worker's active plugin is not pulled from under it).
   */
  remove (who: Identity, id: string): PluginView {
    const record = this.visible(who, id)
    const at = this.o.clock.now()
    this.o.store.plugins.markDeleted(id, at)
    this.o.log.info({ pluginId: id, by: who.userId }, 'plugin deleted')
    return view({ ...record, deletedAtMs: at })
  }

  /** A live plugin `who` may see, else plugin_not_found. */
  visible (who: Identity, id: string): PluginRecord {
    const record = this.o.store.plugins.get(id)
    if (record === undefined || record.deletedAtMs !== null || !canAccess(who, record.teamId)) throw pluginNotFound(id)
    return record
  }

  /** A component of `teamId` that `who` may see; component_not_found (naming the field) otherwise. */
  private component (who: Identity, teamId: string, id: string, field: string): ComponentRecord {
    const record = this.o.store.components.get(id)
    if (record === undefined || record.teamId !== teamId || !canAccess(who, record.teamId)) {
      throw new ColonyError('component_not_found', `no component ${id.slice(0, 80)} in this account`, { details: { field } })
    }
    return record
  }
}

export function definitionOf (record: PluginRecord): Definition {
  return JSON.parse(record.definition) as Definition
}

export function view (record: PluginRecord): PluginView {
  const d = definitionOf(record)
  return {
    id: record.id,
    name: record.name,
    version: record.version,
    description: d.description,
    icon: d.icon,
    homepage: d.homepage,
    specs: d.specs,
    scope: d.scope,
    accountId: record.teamId,
    createdAt: new Date(record.createdAtMs).toISOString(),
    deleted: record.deletedAtMs !== null,
  }
}
