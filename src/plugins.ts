/**
 * The plugins domain's public surface (Golem plugins: registry, installations, activation, oplog delivery), for the
 * bridges and the worker runtime. It sits above the components domain.
 */
export { PluginService } from './plugins/service.js'
export { ME, type PluginRegistry } from './plugins/registry.js'
export type { InstallationCreation, InstallationUpdate, PluginInstallations } from './plugins/installations.js'
export { OplogForwarder, type PluginOplogPayload, type WorkerRef } from './plugins/forwarder.js'
export type {
  ForwardedEntry, InstallationView, PluginActivation, PluginCreation, PluginKind, PluginScope, PluginSpecs, PluginView,
} from './plugins/types.js'
