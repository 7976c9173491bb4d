import type { BridgeContext, BridgeRuntime } from '../../src/index.js'

/**
 * What the NATS bridge takes from the runtime: its own section (its credentials included), the data dir (host key),
 * the component size limit, and the services the control interface drives.
 */
export function natsDeps ({ config, services }: BridgeRuntime) {
  return {
    config: { nats: config.nats, data: { dir: config.data.dir }, wasm: { maxComponentBytes: config.wasm.maxComponentBytes } },
    bus: services.bus,
    metrics: services.metrics,
    status: services.status,
    requestShutdown: services.requestShutdown,
    auth: { localIdentity: () => services.auth.localIdentity() },
    services: { components: services.components, links: services.links, providers: services.providers },
  }
}

export type NatsContext = BridgeContext<ReturnType<typeof natsDeps>>
