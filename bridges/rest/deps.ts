import type { BridgeContext, BridgeRuntime } from '../../src/index.js'

/**
 * What the REST bridge takes from the runtime: the http section, the OAuth redirect settings (not the client
 * secret: the OAuth service keeps that), the component limits, and the services its routes drive.
 */
export function restDeps ({ config, services }: BridgeRuntime) {
  return {
    config: {
      http: config.http,
      oauth: { frontendUrl: config.oauth.frontendUrl, stateTtlMs: config.oauth.stateTtlMs },
      wasm: { maxComponentBytes: config.wasm.maxComponentBytes, callTimeoutMs: config.wasm.callTimeoutMs },
    },
    http: services.http,
    bus: services.bus,
    metrics: services.metrics,
    status: services.status,
    gate: services.gate,
    auth: services.auth,
    teams: services.teams,
    oauth: services.oauth,
    services: {
      components: services.components,
      links: services.links,
      providers: services.providers,
      gateway: services.gateway,
      plugins: services.plugins,
      workers: services.workers,
      capsules: services.capsules,
      sessions: services.sessions,
      channels: services.channels,
      hosts: services.hosts,
      remoteCapsules: services.remoteCapsules,
    },
  }
}

export type RestContext = BridgeContext<ReturnType<typeof restDeps>>
