import type { Bus } from '../broker/bus.js'
import type { Clock } from '../clock.js'
import type { Identity } from '../auth/identity.js'
import type { Logger } from '../log.js'
import type { Store } from '../store/index.js'
import { OplogForwarder } from './forwarder.js'
import { PluginInstallations } from './installations.js'
import { PluginRegistry } from './registry.js'
import type { PluginActivation } from './types.js'

/** Golem plugins: the registry, installations on components, and delivery of oplog entries to processors. */
export class PluginService {
  readonly registry: PluginRegistry
  readonly installations: PluginInstallations
  readonly forwarder: OplogForwarder

  constructor (private readonly o: { store: Store, clock: Clock, log: Logger, bus: Pick<Bus, 'publish'> }) {
    this.registry = new PluginRegistry(o)
    this.installations = new PluginInstallations(o)
    this.forwarder = new OplogForwarder(o.bus, o.clock)
  }

  /** See PluginInstallations.resolveInstallation: what a worker's activate-plugin / deactivate-plugin names. */
  resolveInstallation (as: Identity | undefined, componentId: string, installationId: string): PluginActivation {
    return this.installations.resolveInstallation(as, componentId, installationId)
  }

  /** See PluginInstallations.initialActivations: the plugins a new worker of the component starts with. */
  initialActivations (as: Identity | undefined, componentId: string): PluginActivation[] {
    return this.installations.initialActivations(as, componentId)
  }

  /** The team a plugin (deleted or not) belongs to, for the ACL of its feed. */
  teamOf (pluginId: string): string | undefined {
    return this.o.store.plugins.get(pluginId)?.teamId
  }
}
