import { ColonyError, toColonyError } from '../errors.js'
import type { Unsubscribe } from '../broker/bus.js'
import type { ActorSystem } from '../actor/system.js'
import { agentPrefix, filters, isRuntimeTopic, isValidFilter, parseAgentTopic, topics } from '../wire/topics.js'
import { parseInvokeRequest, type InvokeRequest } from '../wire/payloads.js'
import type { Identity } from '../auth/identity.js'
import { invokeComponent } from './control.js'
import type { ComponentRegistry } from './registry.js'

/**
 * Invocations over MQTT: a client publishes `{id, function, params, replyTo}` on `agents/{componentId}/invoke`
 * and gets `{id, result, function, stdout, stderr}` or `{id, error: {code, message}}` on `replyTo` (default
 * `agents/{componentId}/reply`). A durable worker's actor id routes to the worker instead (`other`). A non-admin may only ask for replies below `agents/{componentId}/`, which only
 * that component's team can read; nobody may point replies at a reserved topic.
 */
/**
 * Another kind of invocable actor (a durable worker): given the actor id, the function that runs a request for it,
 * resolving with the reply's fields; undefined when the id is not one of its actors.
 */
export type InvokeTarget = (actorId: string) => ((request: InvokeRequest, as: Identity | undefined) => Promise<Record<string, unknown>>) | undefined

export function routeInvocations (system: ActorSystem, components: ComponentRegistry, callTimeoutMs: number, other?: InvokeTarget): Unsubscribe {
  return system.bus.subscribe(filters.invoke, (m) => {
    if (m.clientId === undefined) return
    const componentId = parseAgentTopic(m.topic)?.id ?? ''
    let requestId: string | undefined
    let replyTo = topics.reply(componentId)
    try {
      // The correlation id and reply topic are read first, so that any later refusal can still be answered.
      // A refused replyTo is answered on the default reply topic.
      const envelope = peek(m.payload)
      requestId = envelope.id
      if (envelope.replyTo !== undefined) replyTo = checkReplyTo(envelope.replyTo, componentId, m.identity)
      const request = parseInvokeRequest(m.payload)
      const target = other?.(componentId)
      const work = target !== undefined
        ? target(request, m.identity)
        : invokeComponent(system.api, components, componentId, request.function, request.params, {
          ...(m.identity !== undefined && { as: m.identity }),
          timeoutMs: callTimeoutMs,
        }).then((out) => ({ result: out.value, function: out.function, stdout: out.stdout, stderr: out.stderr }))
      work.then((reply) => {
        system.bus.publish(replyTo, { id: request.id, ...reply })
      }, (err: unknown) => {
        const e = toColonyError(err)
        system.bus.publish(replyTo, { id: request.id, error: { code: e.code, message: e.message } })
      })
    } catch (err) {
      const e = toColonyError(err)
      system.log.info({ err: e.message, clientId: m.clientId, topic: m.topic }, 'mqtt invoke refused')
      // Without a correlation id a reply means nothing; the alert still tells the sender's team.
      if (requestId !== undefined) system.bus.publish(replyTo, { id: requestId, error: { code: e.code, message: e.message } })
      else if (system.resolve(componentId) !== undefined) system.alert(componentId, 'error', `invoke refused: ${e.message}`, { code: e.code, clientId: m.clientId })
    }
  })
}

function peek (payload: Buffer): { id: string | undefined, replyTo: string | undefined } {
  try {
    const raw = JSON.parse(payload.toString('utf8')) as { id?: unknown, replyTo?: unknown } | null
    return {
      id: typeof raw?.id === 'string' && raw.id !== '' && raw.id.length <= 128 ? raw.id : undefined,
      replyTo: typeof raw?.replyTo === 'string' ? raw.replyTo : undefined,
    }
  } catch {
    return { id: undefined, replyTo: undefined }
  }
}

function checkReplyTo (topic: string, componentId: string, who: Identity | undefined): string {
  if (!isValidFilter(topic) || /[+#]/.test(topic) || isRuntimeTopic(topic)) {
    throw new ColonyError('wire_invalid_payload', `replyTo "${topic.slice(0, 80)}" is not a topic replies may be published on`)
  }
  const own = agentPrefix(componentId)
  if (who !== undefined && !who.isAdmin && !topic.startsWith(own)) {
    throw new ColonyError('wire_invalid_payload', `replyTo must be below ${own} (only this component's team can read it)`)
  }
  return topic
}
