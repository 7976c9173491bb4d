/**
 * The composition root: the one module in src/ that knows the actor kinds and bridges. The CLI and the tests
 * start the runtime with these lists, so no test has to import the CLI (and its process handling).
 */
import type { ActorKind } from './actor/types.js'
import type { BridgeDef } from './bridge.js'
import { KERNEL_SETTINGS, loadConfig as loadSections, type ColonyConfig, type LoadOptions } from './config.js'
import type { Section } from './settings.js'
import { mainKind } from '../actors/main.js'
import { ioKind } from '../actors/io.js'
import { monitorKind } from '../actors/monitor.js'
import { qaKind } from '../actors/qa.js'
import { haMapKind } from '../actors/ha-map.js'
import { echoKind } from '../actors/echo.js'
import { componentKind } from '../actors/component.js'
import { workerKind } from '../actors/worker.js'
import { capsuleKind } from '../actors/capsule.js'
import { hostKind } from '../actors/host.js'
import { keyvalueProviderKind, loggingProviderKind, messagingProviderKind } from '../actors/providers.js'
import { restBridge } from '../bridges/rest/index.js'
import { wsBridge } from '../bridges/ws/index.js'
import { natsBridge } from '../bridges/nats/index.js'
import { loadHostKey } from '../bridges/nats/host-key.js'

export const KINDS = [
  mainKind, ioKind, monitorKind, qaKind, haMapKind, echoKind, componentKind, workerKind, capsuleKind, hostKind,
  keyvalueProviderKind, loggingProviderKind, messagingProviderKind,
] as ActorKind<never>[]
export const BOOT = [
  { kind: 'main', name: 'main-actor' },
  { kind: 'io', name: 'io-agent' },
  { kind: 'monitor', name: 'monitor-agent' },
  { kind: 'qa', name: 'qa-agent' },
  { kind: 'ha-map', name: 'ha-map-agent' },
  { kind: 'provider:keyvalue', name: 'keyvalue-provider' },
  { kind: 'provider:messaging', name: 'messaging-provider' },
  { kind: 'provider:logging', name: 'logging-provider' },
]
export const BRIDGES: BridgeDef[] = [restBridge, wsBridge, natsBridge]


/** Every config section: the kernel's, then those of the actor kinds and bridges above (each declared by its owner). */
export const SETTINGS: readonly Section[] = [
  ...KERNEL_SETTINGS,
  ...KINDS.flatMap((k) => k.settings ?? []),
  ...BRIDGES.flatMap((b) => b.settings ?? []),
]

/** Loads and validates Colony's whole configuration (every problem at once; see `src/config.ts`). */
export function loadConfig (options: LoadOptions = {}): Readonly<ColonyConfig> {
  return loadSections(SETTINGS, options)
}

/**
 * This Colony's wasmCloud host id when it is on a lattice (the NATS bridge's key in the data dir), so a Colony that
 * joins another as a Wrenn host is known there as the same host the lattice sees.
 */
export function latticeHostId (config: Readonly<ColonyConfig>): string | undefined {
  return config.nats.url === '' ? undefined : loadHostKey(config.data.dir).id
}
