/**
 * Puts the durable-workers domain together over one store: one group-committing oplog writer for every worker
 * (two writers would hand out the same indexes), the reader, the rows, and the service every door uses.
 */
import type { Clock } from '../clock.js'
import type { Logger } from '../log.js'
import type { ComponentRegistry } from '../components/registry.js'
import type { Store } from '../store/index.js'
import { OplogWriter } from './oplog-writer.js'
import { OplogReader } from './oplog-reader.js'
import { WorkerPersistence } from './persistence.js'
import { WorkerService, type ForwardOplog, type WorkerSettings } from './service.js'
import type { PluginInstallation } from './oplog-entries.js'

export function createWorkerService (o: {
  store: Store
  components: ComponentRegistry
  clock: Clock
  log: Logger
  settings: WorkerSettings
  /** Hands durable entries of a worker with active plugins to them (the plugins domain sits above this one). */
  forward?: ForwardOplog
  installedPlugins?: (componentId: string) => PluginInstallation[]
}): WorkerService {
  const writer = new OplogWriter(o.store.oplog)
  const reader = new OplogReader(o.store.oplog)
  const rows = new WorkerPersistence({
    store: o.store,
    writer,
    reader,
    clock: o.clock,
    componentSize: (componentId, version) => o.components.revisionInfo(componentId, version)?.size ?? 0,
    ...(o.forward !== undefined && { onDurable: (ref, entries) => service.durable(ref, entries) }),
  })
  // The rows tell the service of each durable append (only ever after this line has run).
  const service = new WorkerService({
    rows,
    oplogFor: (ref) => rows.oplogFor(ref),
    writer,
    components: o.components,
    clock: o.clock,
    log: o.log,
    settings: o.settings,
    ...(o.forward !== undefined && { forward: o.forward }),
    ...(o.installedPlugins !== undefined && { installedPlugins: o.installedPlugins }),
  })
  return service
}
