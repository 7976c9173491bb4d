import type { ComponentRegistry } from './components/registry.js'
import type { Store } from './store/index.js'
import type { LinkService } from './components/links.js'
import type { ProviderMemory } from './components/provider-memory.js'
import type { WorkerService } from './workers/service.js'
import type { Gateway } from './gateway/service.js'
import type { PluginService } from './plugins/service.js'
import type { CapsuleService } from './capsules/service.js'
import type { SessionService } from './capsules/sessions.js'
import type { ChannelService } from './channels/service.js'
import type { HostDirectory, HostService } from './hosts/service.js'
import type { RemoteCapsules } from './hosts/remote.js'

/** Limits every component instance runs under (config `wasm.*`). */
export interface WasmLimits {
  callTimeoutMs: number
  startTimeoutMs: number
  memoryLimitBytes: number
  hostCallTimeoutMs: number
  maxQueuedCalls: number
}

/**
 * Kernel services actor kinds may pick with their `deps` (component, provider and main actors). Bridges get
 * the same objects through their context.
 */
export interface Services {
  components: ComponentRegistry
  wasmLimits: WasmLimits
  links: LinkService
  /** The keyvalue provider's data. */
  store: Pick<Store, 'kv'>
  /** Providers started at run time (`startProvider`, `stopProvider`) and how each was started. */
  providers: ProviderMemory
  /** Golem durable workers: their rows, oplogs and actors (every door goes through it). */
  workers: WorkerService
  /** The Worker Gateway's definitions, deployments and live sites. */
  gateway: Gateway
  /** Golem plugins: registry, installations, activation lookups and oplog delivery to processors. */
  plugins: PluginService
  /** Wrenn capsules: sandboxes on this host, their lifecycle, files, terminals and snapshots. */
  capsules: CapsuleService
  /** wasmrun sessions, each a capsule underneath. */
  sessions: SessionService
  /** Wrenn's notification channels: CRUD, mute, and the delivery of events and actor alerts to them. */
  channels: ChannelService
  /** Wrenn hosts: registration, credentials, heartbeats, status. */
  hosts: HostService
  /** Hosts as actors see them (no keys, no store): the host actor and main-actor's `hosts`. */
  hostDirectory: HostDirectory
  /** Capsules on joined Colonies, driven through this one. */
  remoteCapsules: RemoteCapsules
}
