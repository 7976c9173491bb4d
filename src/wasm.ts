/** The WebAssembly engine's part of the kernel's public surface (instances, WIT types), for the component actor. */
export { InstancePool } from './wasm/pool.js'
export type { ComponentMetadata, WitFunction, WitType } from './wasm/types.js'
export { witFunction } from './wasm/wit-text.js'
export { WasmInstance, type InstanceOptions } from './wasm/instance.js'
export type { CallOutcome, JournalOutcome, ReplayCall } from './wasm/worker.js'
export type { CallJournal, Divergence, HostCallRecord } from './wasm/host-journal.js'
export { fromJsonSafe, toJsonSafe } from './wasm/journal-codec.js'
