/** The WebAssembly part of the kernel's public surface, for the component and worker actors and the bridges. */
export { InstancePool } from './wasm/pool.js'
export { finishCall, prepareCall, qualifiedName, type InvokeOutcome, type PreparedCall } from './wasm/invoke.js'
export type { ComponentRegistry, ComponentView, LoadedComponent } from './wasm/registry.js'
export type { LinkService } from './wasm/links.js'
export type { ComponentMetadata, WitFunction, WitType } from './wasm/types.js'
export { witFunction } from './wasm/wit-text.js'
export { golemTyp } from './wasm/golem.js'
export { checkSettings, scaleComponent, invokeComponent, type InstanceSettings } from './wasm/control.js'
