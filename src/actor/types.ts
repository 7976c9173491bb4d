import type { Clock, TimerHandle } from '../clock.js'
import type { ColonyConfig, Strategy } from '../config.js'
import type { Section } from '../settings.js'
import type { Logger } from '../log.js'
import type { BusMessage, PublishOptions, SubscribeOptions, Unsubscribe } from '../broker/bus.js'
import type { Severity, WireState } from '../wire/payloads.js'
import type { AlertCode } from '../wire/alert-codes.js'
import type { Identity } from '../auth/identity.js'

/** A chat line delivered to an actor (from `io/chat`, `agents/{id}/chat` or `POST /api/chat`). */
export interface ChatMessage {
  type: 'chat'
  id: string
  from: string
  to: string
  content: string
  timestampMs: number
  /** Who sent it, when the door it came through knew (REST, an authenticated MQTT client). */
  sender?: Identity
}

/** A message from a topic the actor subscribed to with `ctx.subscribe`. */
export interface MqttMessage extends BusMessage {
  type: 'mqtt'
}

/** Anything else: timers (`ctx.schedule`) and actor-to-actor messages. */
export interface CustomMessage {
  type: string
  [key: string]: unknown
}

/** A message sent with `system.ask`: the actor answers by calling `respond` once (an error, or undefined and a value). */
export interface RequestMessage extends CustomMessage {
  respond: (error: unknown, value?: unknown) => void
  /** Who asked, when the door knew. */
  sender?: Identity
}

export function isRequest (message: ActorMessage): message is RequestMessage {
  return typeof (message as { respond?: unknown }).respond === 'function'
}

export type ActorMessage = ChatMessage | MqttMessage | CustomMessage

/**
 * What an actor kind does. Every method runs inside the actor's lifecycle: one message at a time, and a
 * throw (or a rejected promise) from any of them is a crash that goes to the actor's supervisor.
 */
export interface Behaviour {
  /** Runs when the actor starts, and on a fresh instance after every supervisor restart. */
  start?(): void | Promise<void>
  /** Every non-chat message, in arrival order; while paused, messages wait. */
  receive?(message: ActorMessage): void | Promise<void>
  /** A chat line; the returned text is the one reply, published on `agents/{id}/chat`. */
  chat?(message: ChatMessage): string | Promise<string>
  /**
   * Extra fields for this beat's heartbeat. Returning `false` skips the beat: an actor that cannot vouch for
   * its own health (a wedged worker, a lost upstream) goes silent and the monitor notices.
   */
  heartbeat?(): Record<string, unknown> | false
  /** Releases what the instance holds; runs on stop, delete, and before a restart replaces the instance. */
  stop?(): void | Promise<void>
}

/**
 * What a kind's `deps` picks from. `Services` is defined by the layers above (which own the component registry
 * and links), so the kernel carries it without knowing it; the public `ActorKind` in `src/index.ts` fixes it to
 * the runtime's `Services`.
 */
export interface KindRuntime<Services = unknown> {
  readonly config: Readonly<ColonyConfig>
  readonly services: Services
}

/**
 * `Options` come with each spawn (and are saved with a user's spawn); `Deps` is what the kind takes from the
 * runtime, the same for every actor of the kind (xstate's `input` is the model for both).
 */
export type ActorKind<Options = Record<string, unknown>, Services = unknown, Deps = undefined> =
  ActorKindBase<Options, Deps> & DepsPicker<Services, Deps>

/**
 * Picks the settings and services a kind uses; its actors see only that, as `ctx.deps`. A kind without it gets
 * `undefined`: never the config (which holds secrets) nor the runtime's services. Required as soon as a kind
 * declares a `Deps`, so a kind cannot forget to fill what its actors read. Called for every behaviour instance
 * (start and each restart).
 */
type DepsPicker<Services, Deps> = [Deps] extends [undefined]
  ? { deps?(runtime: KindRuntime<Services>): Deps }
  : { deps(runtime: KindRuntime<Services>): Deps }

interface ActorKindBase<Options, Deps> {
  /** Registry key used to spawn it, e.g. `echo`. */
  kind: string
  /** `agentType` on the wire, e.g. `orchestrator`. */
  agentType: string
  /** Protected actors refuse pause/stop/delete from outside (REST 403, MQTT command ignored with an alert). */
  protected?: boolean
  /** Users may spawn it at run time (`POST /api/actors`, `@main-actor spawn`). */
  spawnable?: boolean
  /** One line per chat command this kind understands; `help` prints it. */
  help?: string
  /** The config section this kind owns (its schema and defaults); the assembly hands it to the loader. */
  settings?: Section
  create(ctx: ActorContext<Deps>, options: Options): Behaviour
}

/** What an actor's behaviour can do with the world: all of it goes through messages or the registry. */
export interface ActorContext<Deps = undefined> {
  readonly id: string
  readonly name: string
  readonly agentType: string
  readonly clock: Clock
  readonly log: Logger
  readonly system: SystemApi
  /** What the kind's `deps` picked from the runtime's config and services (see ActorKind). */
  readonly deps: Deps
  publish(topic: string, payload: unknown, options?: PublishOptions): void
  /** Messages matching `filter` arrive through the mailbox as `{type: 'mqtt', ...}`. Dropped on stop/restart. */
  subscribe(filter: string, options?: SubscribeOptions): Unsubscribe
  /** Publishes an alert on `agents/{subject}/alert` (subject: this actor unless given). */
  alert(severity: Severity, message: string, extra?: AlertExtra): void
  /** Publishes a chat line from this actor on `agents/{id}/chat`. */
  say(to: string, content: string, inReplyTo?: string): void
  /** Delivers `message` into this actor's own mailbox after `ms`; cancelled when the instance stops. */
  schedule(ms: number, message: CustomMessage): TimerHandle
  cancel(handle: TimerHandle): void
  /** Reports a failure found outside a handler (a socket error, a lost worker): the actor crashes. */
  fail(err: unknown): void
}

export interface AlertExtra {
  /** The actor the alert is about, when it is not the raiser. */
  subject?: string
  code?: AlertCode
  [key: string]: unknown
}

export interface SpawnOptions<Options = Record<string, unknown>> {
  name?: string
  /** Fixed id (system actors use their name); generated when omitted. */
  id?: string
  options?: Options
  /** Supervisor group id; defaults to `user` for run-time spawns. */
  supervisor?: string
  /** The owning team: only its members (and platform admins) see and steer the actor. Null: a system actor. */
  team?: string | null
  /** Overrides the kind's `protected` (only through `spawnInternal`): e.g. a provider started over NATS may be stopped there. */
  protected?: boolean
}

export interface SupervisorSpec {
  id: string
  strategy: Strategy
  maxRestarts: number
  restartWindowMs: number
}

/** An actor as REST, chat and the dashboard see it. */
export interface ActorInfo {
  id: string
  name: string
  state: WireState
  protected: boolean
  agentType: string
  kind: string
  supervisor: string
  /** The owning team, or null for system actors (visible to everyone). */
  team: string | null
  createdAtMs: number
  startedAtMs: number | null
  restarts: number
  /** Why it last failed, while it is `failed`. */
  error: string | null
}

/** A list entry with the actor's last heartbeat: when (the runtime's clock) and how long ago, as the list was made. */
export interface ActorBeatInfo extends ActorInfo {
  lastHeartbeatMs: number | null
  heartbeatAgeMs: number | null
}

export interface ActorStats extends ActorInfo {
  mailboxDepth: number
  mailboxCapacity: number
  messagesProcessed: number
  lastHeartbeatMs: number | null
}

/** The few fields the monitor needs about every actor, without building full info objects. */
export interface Liveness {
  id: string
  name: string
  state: WireState
  /** When it last beat, or when it started (or was created) if it has not beaten yet. */
  lastSignMs: number
}

export interface KindInfo { kind: string, agentType: string, spawnable: boolean, protected: boolean, help: string | undefined }

/**
 * The registry and control surface, shared by actors (via `ctx.system`) and bridges. Calls made on behalf of
 * someone pass `as`: an actor of a team they cannot access does not exist for them (404, never 403, so that
 * existence does not leak). Without `as` the caller is the runtime itself.
 */
export interface SystemApi {
  /** Bumped on every add, remove and state change: cache serialized views by it. */
  version(): number
  list(as?: Identity): ActorInfo[]
  /** The list with each actor's last heartbeat (changes with every beat: not cacheable by `version`). */
  listWithHeartbeats(as?: Identity): ActorBeatInfo[]
  /** How many actors the registry holds. */
  count(): number
  /** One cheap entry per actor for liveness checks (the monitor scans thousands each tick). */
  liveness(): Liveness[]
  get(ref: string, as?: Identity): ActorStats | undefined
  /** The actor's state, without building its stats (hot paths: every invocation asks). */
  stateOf(ref: string, as?: Identity): WireState | undefined
  kinds(): KindInfo[]
  /**
   * A user's run-time spawn of a spawnable kind (REST, chat): saved in SQLite before it starts, so it comes back after a
   * restart with its id, name, team, options and last asked-for state, until it is deleted.
   */
  spawn(kind: string, options?: SpawnOptions): Promise<ActorInfo>
  /**
   * Spawns any kind (not only user-spawnable ones) under the `user` supervisor unless told otherwise: for the
   * runtime's own services (component and worker actors). The caller does its own authorization, and its own
   * restoring after a restart (nothing is saved here).
   */
  spawnInternal(kind: string, options?: SpawnOptions): Promise<ActorInfo>
  pause(ref: string, as?: Identity): ActorInfo
  resume(ref: string, as?: Identity): ActorInfo
  stop(ref: string, as?: Identity): Promise<ActorInfo>
  remove(ref: string, as?: Identity): Promise<ActorInfo>
  /** Puts a message in an actor's mailbox; throws `mailbox_full`, `actor_not_found` or `actor_invalid_state`. */
  deliver(ref: string, message: ActorMessage, as?: Identity): void
  /** Delivers a request and resolves with the actor's answer (see RequestMessage); rejects after `timeoutMs`. */
  ask(ref: string, message: CustomMessage, options?: { as?: Identity, timeoutMs?: number }): Promise<unknown>
  /** Creates a supervisor group actors can be spawned under. */
  createSupervisor(spec: SupervisorSpec): void
}
