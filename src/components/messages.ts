import { ColonyError } from '../errors.js'
import type { Logger } from '../log.js'
import { isRequest, type ActorMessage } from '../actor/types.js'

/**
 * The messages component and provider actors understand, as one typed protocol: the senders (scales, invocations
 * from REST, MQTT, chat and NATS, a component calling its linked provider, a provider delivering to a component)
 * build them with the constructors below, and each actor reads what arrives with `readComponentMessage` or
 * `readProviderMessage`. Whatever those do not recognise goes to `refuseMessage`, the one place that says no.
 *
 * They are type aliases, not interfaces, so that they fit the kernel's `CustomMessage` (an index signature).
 */

/** Calls an exported function (asked: the answer is the `InvokeOutcome`). */
export type InvokeMessage = { type: 'invoke', function: string, params: unknown, timeoutMs?: number }
/** Resizes a running component actor; `version` pins a revision, null follows the latest again, absent keeps the pin. */
export type ScaleMessage = { type: 'scale', instances: number, version?: number | null }
/** Asks for the loaded revision's metadata. */
export type DescribeMessage = { type: 'describe' }
/** The component's own timer: links changed while it waited for them. */
export type LinksChangedMessage = { type: 'links-changed' }

export type ComponentMessage = InvokeMessage | ScaleMessage | DescribeMessage | LinksChangedMessage

/** One guest import call a component makes to the provider its link names (asked: the answer is the call's value). */
export type HostCallMessage = { type: 'host-call', iface: string, method: string, args: unknown[], source: string }
/** A provider's own timer: links changed, re-read what it serves. */
export type ReconcileMessage = { type: 'reconcile' }

export type ProviderMessage = HostCallMessage | ReconcileMessage

/** How an asked message is answered: an error, or undefined and a value (see the kernel's `RequestMessage`). */
export type Respond = (error: unknown, value?: unknown) => void
/** An asked message as it arrives: with the way to answer it. */
export type Asked<M> = M & { respond: Respond }

/** What a component actor receives once read: asks carry `respond`, its own timer does not. */
export type ComponentInbound = Asked<InvokeMessage> | Asked<ScaleMessage> | Asked<DescribeMessage> | LinksChangedMessage
/** What a provider actor receives once read. */
export type ProviderInbound = Asked<HostCallMessage> | ReconcileMessage

export const componentMessages = {
  invoke: (fn: string, params: unknown, timeoutMs?: number): InvokeMessage =>
    ({ type: 'invoke', function: fn, params, ...(timeoutMs !== undefined && { timeoutMs }) }),
  scale: (instances: number, version?: number | null): ScaleMessage => ({ type: 'scale', instances, ...(version !== undefined && { version }) }),
  describe: (): DescribeMessage => ({ type: 'describe' }),
  linksChanged: (): LinksChangedMessage => ({ type: 'links-changed' }),
}

export const providerMessages = {
  hostCall: (source: string, iface: string, method: string, args: unknown[]): HostCallMessage => ({ type: 'host-call', iface, method, args, source }),
  reconcile: (): ReconcileMessage => ({ type: 'reconcile' }),
}

type Fields = Record<string, unknown>

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0
const optional = (v: unknown, check: (v: unknown) => boolean): boolean => v === undefined || check(v)

/** The component protocol's message, or undefined when `message` is not one (unknown type, wrong fields, an ask not asked). */
export function readComponentMessage (message: ActorMessage): ComponentInbound | undefined {
  const m = message as Fields
  switch (message.type) {
    case 'invoke':
      return isRequest(message) && typeof m.function === 'string' && optional(m.timeoutMs, (v) => typeof v === 'number' && v > 0)
        ? message as Asked<InvokeMessage>
        : undefined
    case 'scale':
      return isRequest(message) && isCount(m.instances) && optional(m.version, (v) => v === null || isCount(v))
        ? message as Asked<ScaleMessage>
        : undefined
    case 'describe':
      return isRequest(message) ? message as Asked<DescribeMessage> : undefined
    case 'links-changed':
      return message as LinksChangedMessage
    default:
      return undefined
  }
}

/** The provider protocol's message, or undefined when `message` is not one. */
export function readProviderMessage (message: ActorMessage): ProviderInbound | undefined {
  const m = message as Fields
  switch (message.type) {
    case 'host-call':
      return isRequest(message) && typeof m.iface === 'string' && typeof m.method === 'string' && Array.isArray(m.args) && typeof m.source === 'string'
        ? message as Asked<HostCallMessage>
        : undefined
    case 'reconcile':
      return message as ReconcileMessage
    default:
      return undefined
  }
}

/**
 * The one answer to a message outside an actor's protocol: logged, and an ask is answered `message_unknown` at once
 * (instead of waiting out its timeout). Never a throw: a stray message does not crash the actor.
 */
export function refuseMessage (log: Logger, message: ActorMessage, protocol: 'component' | 'provider' | 'worker'): void {
  const type = String(message.type).slice(0, 64)
  log.warn({ type, protocol }, 'message refused: not part of the protocol, or malformed')
  if (isRequest(message)) {
    message.respond(new ColonyError('message_unknown', `a ${protocol} actor does not understand a "${type}" message with these fields`))
  }
}
