import type { Clock } from './clock.js'
import type { ColonyConfig } from './config.js'
import type { Logger } from './log.js'
import type { Bus } from './broker/bus.js'
import type { HttpHost } from './http/host.js'
import type { Metrics } from './metrics.js'
import type { ActorContext, ActorKind, SystemApi } from './actor/types.js'
import type { Acl } from './acl.js'
import type { Gate } from './auth/gate.js'
import type { AuthService } from './auth/service.js'
import type { OAuthService } from './auth/oauth.js'
import type { TeamService } from './auth/teams.js'
import type { Services } from './services.js'

export interface RuntimeStatus {
  state: 'starting' | 'running' | 'stopping' | 'stopped'
  version: string
  startedAtMs: number
  uptimeMs: number
  actors: number
  mqttClients: number
}

export interface BridgeContext {
  /** The bridge's own actor: publish, alert, log, fail. */
  readonly actor: ActorContext
  readonly system: SystemApi
  /** Direct bus access for high-volume streams that should not go through a mailbox. */
  readonly bus: Bus
  readonly http: HttpHost
  readonly metrics: Metrics
  readonly config: Readonly<ColonyConfig>
  readonly clock: Clock
  readonly log: Logger
  /** Who a request is: every door asks the same gate. */
  readonly gate: Gate
  readonly auth: AuthService
  readonly teams: TeamService
  /** OAuth login (providers, CSRF state, linked accounts). */
  readonly oauth: OAuthService
  readonly acl: Acl
  readonly services: Services
  status(): RuntimeStatus
  /** Extra fields for the bridge actor's heartbeat (clients, requests, drops). */
  setStats(stats: () => Record<string, unknown>): void
  /** Asks the process to shut down gracefully (the CLI closes the runtime and exits 0). */
  requestShutdown(reason: string): void
}

export type StopBridge = () => Promise<void>

/** A bridge is an actor (agentType `bridge`, protected) that carries Colony into another protocol. */
export interface BridgeDef {
  /** Actor name and id, e.g. `rest-bridge`. */
  name: string
  /** Attaches to the runtime; the returned function detaches and must be safe to call twice. */
  start(ctx: BridgeContext): Promise<StopBridge>
}

export interface BridgeServices {
  config: Readonly<ColonyConfig>
  bus: Bus
  http: HttpHost
  metrics: Metrics
  status: () => RuntimeStatus
  gate: Gate
  auth: AuthService
  teams: TeamService
  oauth: OAuthService
  acl: Acl
  services: Services
  requestShutdown: (reason: string) => void
}

/** Wraps a bridge definition into a protected actor kind: starting the actor attaches the bridge. */
export function bridgeKind (def: BridgeDef, services: BridgeServices): ActorKind<Record<string, unknown>, Services> {
  return {
    kind: `bridge:${def.name}`,
    agentType: 'bridge',
    protected: true,
    help: 'help — this text (bridges take no chat commands)',
    create (ctx) {
      let stop: StopBridge | undefined
      let stats: (() => Record<string, unknown>) | undefined
      return {
        async start () {
          stop = await def.start({
            actor: ctx,
            system: ctx.system,
            bus: services.bus,
            http: services.http,
            metrics: services.metrics,
            config: services.config,
            clock: ctx.clock,
            log: ctx.log,
            status: services.status,
            gate: services.gate,
            auth: services.auth,
            teams: services.teams,
            oauth: services.oauth,
            acl: services.acl,
            services: services.services,
            requestShutdown: services.requestShutdown,
            setStats: (fn) => { stats = fn },
          })
        },
        heartbeat: () => stats?.() ?? {},
        async stop () {
          const s = stop
          stop = undefined
          await s?.()
        },
      }
    },
  }
}
