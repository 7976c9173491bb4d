import { openDatabase, type Db, type StoreOptions } from './db.js'
import { ApiKeys } from './api-keys.js'
import { Teams } from './teams.js'
import { Users } from './users.js'
import { Components } from './components.js'
import { Links } from './links.js'
import { KeyValues } from './kv.js'
import { RetainedMessages } from './retained.js'
import { SpawnedActors } from './actors.js'
import { StartedProviders } from './providers.js'
import { WorkerStore } from './workers.js'
import { OplogStore } from './oplog.js'
import { ApiDefinitions, ApiDeployments } from './api-gateway.js'
import { Plugins } from './plugins.js'
import { Capsules } from './capsules.js'
import { Channels } from './channels.js'
import { Hosts } from './hosts.js'

export type { StoreOptions } from './db.js'
export type { User } from './users.js'
export type { Team, Member, Role } from './teams.js'
export type { ApiKey } from './api-keys.js'
export type { ComponentRecord, Revision, ScaleRecord } from './components.js'
export type { Link } from './links.js'
export type { RetainedRow } from './retained.js'
export type { SpawnedActorRecord, SpawnedState } from './actors.js'
export type { StartedProviderRecord } from './providers.js'
export type { NewWorker, UpdateRecord, WorkerListQuery, WorkerPage, WorkerPatch, WorkerRecord } from './workers.js'
export { DEFAULT_WORKER_PAGE, MAX_WORKER_PAGE, WorkerStore, checkWorkerCount, parseWorkerCursor } from './workers.js'
export type { InvocationRecord, InvocationState, InvocationUpsert, OplogGroup, OplogRow, SnapshotRecord } from './oplog.js'
export { OplogStore } from './oplog.js'
export {
  FILTER_COMPARATORS, STRING_COMPARATORS, WORKER_STATUSES,
  type FilterComparator, type StringComparator, type WorkerFilter, type WorkerStatus,
} from './worker-filter.js'
export type { ApiDefinitionRecord, ApiDeploymentRecord } from './api-gateway.js'
export type { InstallationRecord, PluginRecord } from './plugins.js'
export type { CapsulePatch, CapsuleRecord, CapsuleStatus, SnapshotRow } from './capsules.js'
export type { ChannelRecord, DeliveryRecord } from './channels.js'
export type { HostRecord, HostStatus, HostType, RegisteredSpecs, RemoteCapsuleRow } from './hosts.js'

/** The SQLite store with one repository per aggregate. */
export class Store {
  readonly users: Users
  readonly teams: Teams
  readonly apiKeys: ApiKeys
  readonly components: Components
  readonly links: Links
  readonly kv: KeyValues
  readonly retained: RetainedMessages
  readonly spawnedActors: SpawnedActors
  readonly startedProviders: StartedProviders
  readonly workers: WorkerStore
  readonly oplog: OplogStore
  readonly apiDefinitions: ApiDefinitions
  readonly apiDeployments: ApiDeployments
  readonly plugins: Plugins
  readonly capsules: Capsules
  readonly channels: Channels
  readonly hosts: Hosts

  private constructor (readonly db: Db) {
    this.users = new Users(db)
    this.teams = new Teams(db)
    this.apiKeys = new ApiKeys(db)
    this.components = new Components(db)
    this.links = new Links(db)
    this.kv = new KeyValues(db)
    this.retained = new RetainedMessages(db)
    this.spawnedActors = new SpawnedActors(db)
    this.startedProviders = new StartedProviders(db)
    this.workers = new WorkerStore(db)
    this.oplog = new OplogStore(db)
    this.apiDefinitions = new ApiDefinitions(db)
    this.apiDeployments = new ApiDeployments(db)
    this.plugins = new Plugins(db)
    this.capsules = new Capsules(db)
    this.channels = new Channels(db)
    this.hosts = new Hosts(db)
  }

  static open (options: StoreOptions): Store {
    return new Store(openDatabase(options))
  }

  /** Runs `fn` in one transaction: all of it is committed, or none. */
  transaction<T> (fn: () => T): T {
    return this.db.transaction(fn)()
  }

  close (): void {
    if (this.db.open) this.db.close()
  }
}
