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
import type { Section } from './settings.js'

export interface RuntimeStatus {
  state: 'starting' | 'running' | 'stopping' | 'stopped'
  version: string
  startedAtMs: number
  uptimeMs: number
  actors: number
  mqttClients: number
}

/** What every bridge has, whatever it picked: its own actor (publish, alert, log, fail) and heartbeat stats. */
export interface BridgeSelf {
  readonly actor: ActorContext
  readonly system: SystemApi
  readonly clock: Clock
  readonly log: Logger
  /** Extra fields for the bridge actor's heartbeat (clients, requests, drops). */
  setStats(stats: () => Record<string, unknown>): void
}

/**
 * A bridge's context: its own actor, and exactly what its `deps` picked (its config slice and the few services
 * it uses), never the whole config nor every service.
 */
export type BridgeContext<Deps extends object = object> = BridgeSelf & Deps

export type StopBridge = () => Promise<void>

/** What a bridge's `deps` picks from. Only `deps` sees all of it (secrets of other parts included). */
export interface BridgeRuntime {
  readonly config: Readonly<ColonyConfig>
  readonly services: BridgeServices
}

/** The runtime's services, for bridges to pick from: the kernel's doors and the services actor kinds also get. */
export interface BridgeServices extends Services {
  /** Direct bus access for high-volume streams that should not go through a mailbox. */
  bus: Bus
  http: HttpHost
  metrics: Metrics
  status: () => RuntimeStatus
  /** Who a request is: every door asks the same gate. */
  gate: Gate
  auth: AuthService
  teams: TeamService
  /** OAuth login (providers, CSRF state, linked accounts). */
  oauth: OAuthService
  acl: Acl
  /** Asks the process to shut down gracefully (the CLI closes the runtime and exits 0). */
  requestShutdown: (reason: string) => void
}

/** A bridge is an actor (agentType `bridge`, protected) that carries Colony into another protocol. */
export interface BridgeDef<Deps extends object = object> {
  /** Actor name and id, e.g. `rest-bridge`. */
  name: string
  /** The config section this bridge owns (its schema and defaults); the assembly hands it to the loader. */
  settings?: Section
  /** Picks the bridge's config slice and services; called on every start of the bridge's actor. */
  deps(runtime: BridgeRuntime): Deps
  /** Attaches to the runtime; the returned function detaches and must be safe to call twice. */
  start(ctx: BridgeContext<Deps>): Promise<StopBridge>
}

/** Declares a bridge, inferring `Deps` from its `deps`. */
export function defineBridge<Deps extends object> (def: BridgeDef<Deps>): BridgeDef<Deps> {
  return def
}

/** Wraps a bridge definition into a protected actor kind: starting the actor attaches the bridge. */
export function bridgeKind (def: BridgeDef, runtime: BridgeRuntime): ActorKind<Record<string, unknown>, Services> {
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
          const self: BridgeSelf = { actor: ctx, system: ctx.system, clock: ctx.clock, log: ctx.log, setStats: (fn) => { stats = fn } }
          stop = await def.start({ ...def.deps(runtime), ...self })
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
