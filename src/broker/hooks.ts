import type { Aedes, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes'
import { ColonyError, type ErrorCode } from '../errors.js'
import { parseAgentTopic, RUNTIME_ONLY_CHANNELS } from '../wire/topics.js'

/** A publish or subscribe the broker refused, reported on `system/violations` and read by qa-agent. */
export interface Violation {
  code: ErrorCode
  clientId: string
  topic: string
  reason: string
  /** The actor whose topic a client tried to publish on (spoofing). */
  targetId?: string
  remoteAddress?: string
}

export interface HookPolicy {
  /** Accept clients without credentials (only ever true while every listener is on loopback). */
  allowAnonymous: boolean
  maxPacketBytes: number
  onViolation(v: Violation): void
  /** Counts client publishes that passed authorization. */
  onClientPublish(): void
  addressOf(client: Client): string | undefined
}

const BAD_USERNAME_OR_PASSWORD = 4

/**
 * Every Aedes hook, wired in one place. The identity issue replaces `authenticate` and extends the
 * authorize hooks; the defaults here are secure: `$SYS/` is reserved, runtime-owned topics cannot be
 * spoofed, and oversized payloads are refused.
 */
export function installHooks (aedes: Aedes, policy: HookPolicy): void {
  aedes.authenticate = (client, _username, _password, done) => {
    if (policy.allowAnonymous) {
      done(null, true)
      return
    }
    const err = new Error('bad user name or password') as AuthenticateError
    err.returnCode = BAD_USERNAME_OR_PASSWORD
    done(err, false)
  }

  aedes.authorizePublish = (client, packet, done) => {
    const refusal = checkPublish(packet, policy.maxPacketBytes)
    if (refusal === undefined) {
      if (client !== null) policy.onClientPublish()
      done(null)
      return
    }
    const violation: Violation = {
      code: refusal.code,
      clientId: client?.id ?? '(none)',
      topic: packet.topic,
      reason: refusal.message,
      ...(refusal.targetId !== undefined && { targetId: refusal.targetId }),
    }
    const address = client === null ? undefined : policy.addressOf(client)
    if (address !== undefined) violation.remoteAddress = address
    policy.onViolation(violation)
    // MQTT 3.1.1 has no way to refuse a PUBLISH: the connection is closed instead [MQTT-3.3.5-2].
    done(new ColonyError(refusal.code, refusal.message))
  }

  aedes.authorizeSubscribe = (_client: Client, sub: Subscription, done) => {
    done(null, sub)
  }
}

interface Refusal { code: ErrorCode, message: string, targetId?: string }

function checkPublish (packet: PublishPacket, maxBytes: number): Refusal | undefined {
  const topic = packet.topic
  if (topic.startsWith('$SYS/') || topic === '$SYS') {
    return { code: 'publish_refused', message: '$SYS/ topics are reserved for the broker' }
  }
  const size = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length
  if (size > maxBytes) {
    return { code: 'wire_payload_too_large', message: `payload of ${size} bytes exceeds the limit of ${maxBytes} bytes` }
  }
  if (topic.startsWith('system/')) {
    return { code: 'publish_refused', message: 'system/ topics are published by the runtime only' }
  }
  const agent = parseAgentTopic(topic)
  if (agent !== undefined && RUNTIME_ONLY_CHANNELS.has(agent.channel)) {
    return {
      code: 'publish_refused',
      message: `agents/${agent.id}/${agent.channel} is published by the actor itself; a client publishing it is spoofing`,
      targetId: agent.id,
    }
  }
  return undefined
}
