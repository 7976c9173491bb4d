import type { ComponentRegistry } from './components/registry.js'
import type { Store } from './store/index.js'
import type { LinkService } from './components/links.js'

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
  /** The keyvalue provider's data; providers started over NATS (the NATS bridge's). */
  store: Pick<Store, 'kv' | 'startedProviders'>
}
