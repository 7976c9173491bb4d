import type { Clock, TimerHandle } from '../clock.js'
import type { ColonyConfig } from '../config.js'
import type { Bus, Unsubscribe } from '../broker/bus.js'
import { messageId } from '../ids.js'
import type { Logger } from '../log.js'
import { chatPayload, type Severity } from '../wire/payloads.js'
import type { AlertFields } from '../wire/alert-codes.js'
import { topics } from '../wire/topics.js'
import type { ActorContext, ActorKind, ActorMessage, Behaviour, SystemApi } from './types.js'

/** Resources one behaviour instance owns; released when that instance stops, crashes or is replaced. */
export class Incarnation {
  readonly subscriptions = new Set<Unsubscribe>()
  readonly timers = new Set<TimerHandle>()
  behaviour: Behaviour | undefined
  starting: Promise<void> | undefined
  alive = true
}

/**
 * What a context needs from the system that runs its actor. Declared here, below the cell, so that the cell and
 * the context builder both depend on it and neither on the other's host.
 */
export interface ContextHost {
  readonly bus: Bus
  readonly clock: Clock
  readonly config: Readonly<ColonyConfig>
  readonly api: SystemApi
  /** Offered to each kind's `deps`: the kernel carries the services without knowing their type. */
  readonly services: unknown
  alert(subjectId: string, severity: Severity, message: string, extra?: AlertFields): void
}

/** What a context needs from the actor it belongs to. */
export interface ContextOwner {
  readonly id: string
  readonly name: string
  readonly kind: ActorKind<never>
  readonly log: Logger
  readonly live: boolean
  enqueue(message: ActorMessage): boolean
  crash(err: unknown): void
}

/** Publishes one chat line from an actor on its `agents/{id}/chat`. */
export function publishChat (host: ContextHost, from: { id: string, name: string }, to: string, content: string, inReplyTo?: string): void {
  host.bus.publish(topics.chat(from.id), chatPayload({ id: messageId('chat'), from: from.name, to, content, inReplyTo, timestampMs: host.clock.now() }))
}

/**
 * The `ctx` a behaviour instance gets. Subscriptions and timers are tied to its incarnation, so a crashed or
 * replaced instance can neither keep receiving nor schedule work into its successor.
 */
export function createContext (owner: ContextOwner, host: ContextHost, incarnation: Incarnation): ActorContext {
  return {
    id: owner.id,
    name: owner.name,
    agentType: owner.kind.agentType,
    clock: host.clock,
    log: owner.log,
    system: host.api,
    // Only the slice the kind asks for reaches the context: never the whole config, whose secrets a user's actor must not hold.
    deps: owner.kind.deps?.({ config: host.config, services: host.services }),
    publish: (topic, payload, options) => host.bus.publish(topic, payload, options),
    subscribe: (filter, options) => {
      if (!incarnation.alive) return () => undefined
      const unsubscribe = host.bus.subscribe(filter, (m) => { owner.enqueue({ type: 'mqtt', ...m }) }, options)
      incarnation.subscriptions.add(unsubscribe)
      return () => {
        incarnation.subscriptions.delete(unsubscribe)
        unsubscribe()
      }
    },
    alert: (severity, message, extra = {}) => {
      const { subject, ...rest } = extra
      host.alert(subject ?? owner.id, severity, message, subject === undefined ? rest : { source: owner.name, ...rest })
    },
    say: (to, content, inReplyTo) => publishChat(host, owner, to, content, inReplyTo),
    schedule: (ms, message) => {
      const handle = host.clock.setTimeout(() => {
        incarnation.timers.delete(handle)
        if (incarnation.alive) owner.enqueue(message)
      }, ms)
      incarnation.timers.add(handle)
      return handle
    },
    cancel: (handle) => {
      incarnation.timers.delete(handle)
      host.clock.clearTimeout(handle)
    },
    fail: (err) => {
      if (incarnation.alive && owner.live) owner.crash(err)
    },
  }
}
