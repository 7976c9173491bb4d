import type { ErrorCode } from '../errors.js'

/**
 * Stable `code`s of alerts (the `code` field of an `agents/{id}/alert` payload) that actors, bridges and kernel
 * parts raise, so subscribers can match on them. Listed in the README next to the error table. An alert that
 * reports a refused request or payload carries that error's code from the error table instead (`AlertCode`
 * takes both); the two codes below that are also error codes are raised on their own, not for one request.
 */
export const ALERT_CODES = {
  // supervision (the supervisor, on the restarted or given-up actor's topic)
  actorRestarted: 'actor_restarted',
  supervisorGaveUp: 'supervisor_gave_up',
  /** A mailbox started rejecting messages (one alert per episode); the error table's code. */
  mailboxFull: 'mailbox_full',
  // monitor-agent, on the silent actor's topic
  heartbeatMissing: 'heartbeat_missing',
  heartbeatResumed: 'heartbeat_resumed',
  // qa-agent
  credentialInChat: 'credential_in_chat',
  /** A client published on another actor's runtime-only channel (from `system/violations`). */
  spoofing: 'spoofing',
  /** A `system/violations` entry without a code of its own. */
  policyViolation: 'policy_violation',
  // component actors
  /** An instance was stopped (timeout, memory budget, crash) and a fresh one replaces it. */
  instanceReplaced: 'instance_replaced',
  /** A guest import has no link; the error table's code. */
  linkMissing: 'link_missing',
  // worker actors
  /** A durable worker failed (a trap, a timeout, a replay that diverged): it takes no more invocations. */
  workerFailed: 'worker_failed',
  /** A durable worker's guest called exit. */
  workerExited: 'worker_exited',
  // capsule actors
  /** A capsule changed status (paused, resumed, hibernated, missing, error): `info`, or `warning` for missing/error. */
  capsuleStatus: 'capsule_status',
  /** A process of a capsule was killed for going over its memory limit. */
  capsuleOom: 'capsule_oom',
  /** An exec ran over its timeout_sec: its process tree was killed. */
  capsuleExecTimeout: 'capsule_exec_timeout',
  // host actors
  /** A host missed its heartbeats and is unreachable (`host.down`). */
  hostUnreachable: 'host_unreachable',
  /** An unreachable or offline host beat again (`host.up`). */
  hostOnline: 'host_online',
  // ha-map-agent
  haMapFull: 'ha_map_full',
  // nats-bridge
  natsConnected: 'nats_connected',
  natsDisconnected: 'nats_disconnected',
  natsUnreachable: 'nats_unreachable',
  /** ws-bridge: /ws clients are over their byte budget and losing frames (one alert per episode). */
  wsSlowConsumer: 'ws_slow_consumer',
} as const

/** An alert's `code`: one of `ALERT_CODES`, or the error table's code of the error it reports. A free string does not compile. */
export type AlertCode = typeof ALERT_CODES[keyof typeof ALERT_CODES] | ErrorCode

/** What an alert carries besides severity and message. */
export interface AlertFields {
  code?: AlertCode
  /** Who raised it when that is not the actor itself (e.g. `monitor-agent`). */
  source?: string
  [extra: string]: unknown
}
