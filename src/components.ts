/**
 * The components domain's public surface (registry, links, scales, invocation), for the component and provider
 * actors and the bridges. It sits above the actor kernel and the wasm engine.
 */
export { finishCall, prepareCall, qualifiedName, type InvokeOutcome, type PreparedCall } from './components/invoke.js'
export type { ComponentRegistry, ComponentView, LoadedComponent } from './components/registry.js'
export type { LinkService } from './components/links.js'
export { golemTyp } from './components/golem.js'
export { scaleComponent, invokeComponent, restoreScales, type ScaleOptions } from './components/control.js'
export { checkSettings, type InstanceSettings } from './components/instance-settings.js'
export { validateLink, type ChangeOrigin, type LinkKey, type LinkSource } from './components/links.js'
export type { ComponentScaled, ComponentScaleFailed, ScaleOrigin } from './components/types.js'
export type { Link } from './store/index.js'
export {
  componentMessages, providerMessages, readComponentMessage, readProviderMessage, refuseMessage,
  type Asked, type ComponentMessage, type HostCallMessage, type ProviderMessage, type Respond,
} from './components/messages.js'
export {
  checkProviderStart, checkProviderStop, isOciReference, isRunningProvider, providerKind, startProvider, stopProvider,
  type ProviderCaller, type ProviderStart,
} from './components/provider-control.js'
export type { ProviderDescription, ProviderMemory, SavedProvider } from './components/provider-memory.js'
