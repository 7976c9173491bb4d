/**
 * The kernel's public surface: `actors/` and `bridges/` import from here and nowhere else in `src/`.
 */
import type { ActorContext as KernelActorContext, ActorKind as KernelActorKind } from './actor/types.js'
import type { Services } from './services.js'

export type { Clock, TimerHandle } from './clock.js'
export { ManualClock, systemClock } from './clock.js'
export type { ColonyConfig, Strategy } from './config.js'
export { ColonyError, ERROR_CODES, errorBody, isColonyError, toColonyError, type ErrorCode } from './errors.js'
export { isTopicSafeId, messageId, ID_PATTERN } from './ids.js'
export type { Logger } from './log.js'
export type { Metrics, MetricType, Labels, Sample } from './metrics.js'
export type { Bus, BusMessage, BusHandler, PublishOptions, SubscribeOptions, Unsubscribe } from './broker/bus.js'
export type { Violation } from './broker/hooks.js'
export type { HttpHost, UpgradeHandler } from './http/host.js'
export { endRaw, type HttpDeadlines } from './http/deadlines.js'
export { ProxyTrust } from './http/proxy.js'
export type {
  ActorBeatInfo, ActorInfo, ActorMessage, ActorStats, AlertExtra, Behaviour, ChatMessage, CustomMessage,
  KindInfo, KindRuntime, Liveness, MqttMessage, RequestMessage, SpawnOptions, SupervisorSpec, SystemApi,
} from './actor/types.js'
/** An actor's context; `Deps` is what its kind picked with `deps` (nothing, by default). */
export type ActorContext<Deps = undefined> = KernelActorContext<Deps>
/** An actor kind whose `deps` picks from the runtime's config and `Services`; its actors see only that, as `ctx.deps`. */
export type ActorKind<Options = Record<string, unknown>, Deps = undefined> = KernelActorKind<Options, Services, Deps>
export { isRequest } from './actor/types.js'
export type { Services, WasmLimits } from './services.js'
export { defineBridge, type BridgeContext, type BridgeDef, type BridgeRuntime, type BridgeSelf, type BridgeServices, type RuntimeStatus, type StopBridge } from './bridge.js'
export { canAccess, credentialFrom, type AuthResponse, type AuthService, type Gate, type Identity, type MemberView, type TeamService, type TeamView } from './auth/index.js'
export type { Acl } from './acl.js'
export type { ApiKey, Member, Role, Team, User } from './store/index.js'
export {
  COMMANDS, MAX_CHAT_CONTENT, SEVERITIES, chatPayload, parseInboundChat, parseJson,
  type AlertPayload, type ChatPayload, type HealthPayload, type HeartbeatPayload, type Severity, type StatusPayload,
  type WireState,
} from './wire/payloads.js'
export { ALERT_CODES, type AlertCode, type AlertFields } from './wire/alert-codes.js'
export { deliverChat, type ChatLine } from './actor/chat.js'
export { DEFAULT_CHAT_TARGET, routeChat, type ChatRoute } from './wire/mention.js'
export { compileFilter, filters, isRuntimeTopic, isValidFilter, matchesFilter, parseAgentTopic, topics } from './wire/topics.js'
export { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './wire/json-depth.js'
export { eventPayload, WRENN_EVENTS, type EventActor, type EventPayload, type WrennEvent } from './wire/events.js'
export {
  bool, host, int, ms, oneOf, port, section, show, text, urlPath,
  type ConfigInput, type ConfigOf, type Rule, type Section, type SectionCheck, type SettingsOf,
} from './settings.js'
export { isAgentsTopic, isSystemTopic } from './wire/topics.js'
