/** The WebAssembly engine's part of the kernel's public surface (instances, WIT types), for the component actor. */
export { InstancePool } from './wasm/pool.js'
export type { ComponentMetadata, WitFunction, WitType } from './wasm/types.js'
export { witFunction } from './wasm/wit-text.js'
