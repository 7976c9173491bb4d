import type { Aedes, AuthenticateError, Client, PublishPacket, Subscription } from 'aedes'
import { ColonyError, isColonyError, type ErrorCode } from '../errors.js'
import type { Acl } from '../acl.js'
import type { Identity } from '../auth/identity.js'
import { isPluginsTopic, isSystemTopic, parseAgentTopic, RUNTIME_ONLY_CHANNELS, SYSTEM_PREFIX } from '../wire/topics.js'
import { PublishOrder } from './publish-order.js'

/** A publish or subscribe the broker refused, reported on `system/violations` and read by qa-agent. */
export interface Violation {
  code: ErrorCode
  clientId: string
  topic: string
  reason: string
  /** The actor whose topic a client tried to publish on (spoofing). */
  targetId?: string
  remoteAddress?: string
  /** Who the client authenticated as (an email), when known. */
  user?: string
}

export interface HookPolicy {
  maxPacketBytes: number
  acl: Acl
  /** Resolves a CONNECT's password (API key or JWT), or the credentials of its WebSocket upgrade, to an identity. */
  authenticate(client: Client, password: string | undefined): Identity
  /** Called once a client is accepted with its identity. */
  accepted(client: Client, identity: Identity): void
  identityOf(client: Client): Identity | undefined
  onViolation(v: Violation): void
  /** Counts client publishes that passed authorization. */
  onClientPublish(): void
  /** Makes a client's retained publish durable; the publish goes on (or the client is disconnected) once it is. */
  storeRetained?(packet: PublishPacket, done: (err?: Error) => void): void
  addressOf(client: Client): string | undefined
  /**
   * True once the packet guard closed the client's connection for a wire violation. The guard sees a chunk
   * before Aedes parses it; whatever Aedes still parses from that chunk is refused, so none of it takes effect.
   */
  refusedConnection(client: Client): boolean
}

const IDENTIFIER_REJECTED = 2
const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

/**
 * Every Aedes hook, wired in one place. Secure by default: `$SYS/` is reserved, runtime-owned topics cannot be
 * spoofed, oversized payloads are refused, and every other publish, subscription and delivery goes through the ACL.
 */
export function installHooks (aedes: Aedes, policy: HookPolicy): void {
  const order = new PublishOrder()
  aedes.preConnect = (client, packet, done) => {
    // [MQTT-3.1.3-8] a persistent session needs a name to be found again: a zero-byte client id with
    // CleanSession 0 gets CONNACK 2 and the connection is closed. (With CleanSession 1 Aedes assigns an id
    // [MQTT-3.1.3-6]; other protocol levels are refused by Aedes with CONNACK 1.)
    if (packet.clientId.length === 0 && !packet.clean && (packet.protocolVersion === 3 || packet.protocolVersion === 4)) {
      const refusal = new ColonyError('mqtt_client_id_rejected', 'a zero-length client id requires clean session [MQTT-3.1.3-8]')
      refuseConnect(client, IDENTIFIER_REJECTED, () => done(refusal, false))
      return
    }
    done(null, true)
  }

  aedes.authenticate = (client, _username, password, done) => {
    try {
      const given = password === undefined || password.length === 0 ? undefined : password.toString('utf8')
      const identity = policy.authenticate(client, given)
      policy.accepted(client, identity)
      done(null, true)
    } catch (err) {
      // MQTT 3.1.1 CONNACK: 4 for wrong credentials, 5 when none were given and they are required.
      const failure = new Error(isColonyError(err) ? err.message : 'bad user name or password') as AuthenticateError
      failure.returnCode = password === undefined || password.length === 0 ? NOT_AUTHORIZED : BAD_USERNAME_OR_PASSWORD
      done(failure, false)
    }
  }

  // Clients one of whose retained messages could not be stored: what they sent after it is refused too.
  const unstored = new WeakSet<Client>()

  aedes.authorizePublish = (client, packet, done) => {
    // The will of a connection closed for a wire violation is still published [MQTT-3.1.2-8].
    if (client !== null && packet !== (client as { will?: unknown }).will && policy.refusedConnection(client)) {
      done(new ColonyError('publish_refused', 'the connection was closed for a protocol violation'))
      return
    }
    const identity = client === null ? undefined : policy.identityOf(client)
    const refusal = checkPublish(packet, policy.maxPacketBytes) ??
      (identity === undefined ? undefined : aclRefusal(policy.acl.publish(identity, packet.topic)))
    if (refusal === undefined) {
      if (client === null) {
        done(null)
        return
      }
      policy.onClientPublish()
      // The common case, kept free of allocations: a plain publish with nothing in front of it.
      if (!packet.retain && !order.holding(client) && !unstored.has(client)) {
        done(null)
        return
      }
      const goOn = (err?: Error): void => {
        if (err !== undefined) {
          unstored.add(client)
          done(new ColonyError('internal_error', 'the retained message could not be stored', { cause: err }))
        } else if (unstored.has(client)) {
          done(new ColonyError('publish_refused', 'an earlier retained message of this connection could not be stored'))
        } else {
          done(null)
        }
      }
      if (!packet.retain) {
        order.plain(client, goOn)
        return
      }
      order.retained(client, (stored) => {
        const then = (err?: Error): void => {
          goOn(err)
          stored()
        }
        if (policy.storeRetained === undefined) then()
        else policy.storeRetained(packet, then)
      })
      return
    }
    const violation: Violation = {
      code: refusal.code,
      clientId: client?.id ?? '(none)',
      topic: packet.topic,
      reason: refusal.message,
      ...(refusal.targetId !== undefined && { targetId: refusal.targetId }),
      ...(identity !== undefined && { user: identity.email }),
    }
    const address = client === null ? undefined : policy.addressOf(client)
    if (address !== undefined) violation.remoteAddress = address
    policy.onViolation(violation)
    // MQTT 3.1.1 has no way to refuse a PUBLISH: the connection is closed instead [MQTT-3.3.5-2].
    done(new ColonyError(refusal.code, refusal.message))
  }

  aedes.authorizeSubscribe = (client: Client, sub: Subscription, done) => {
    if (policy.refusedConnection(client)) {
      done(new ColonyError('mqtt_invalid_filter', 'the connection was closed for a protocol violation'), null)
      return
    }
    const identity = policy.identityOf(client)
    // A refused filter is negated (SUBACK 0x80) and the connection stays [MQTT-3.9.3].
    if (identity !== undefined && !policy.acl.subscribe(identity, sub.topic)) done(null, null)
    else done(null, sub)
  }

  aedes.authorizeForward = (client, packet) => {
    const identity = policy.identityOf(client)
    if (identity === undefined || identity.isAdmin) return packet
    if (!policy.acl.forward(identity, packet.topic, packet.payload)) return null
    const view = policy.acl.view(identity, packet.topic, packet.payload)
    return view === undefined ? packet : { ...packet, payload: view }
  }
}

interface Refusal { code: ErrorCode, message: string, targetId?: string }

/** Answers a CONNECT with a refusing CONNACK [MQTT-3.2.2-5] (no session present), then lets Aedes close. */
function refuseConnect (client: Client, returnCode: number, then: () => void): void {
  const conn = client.conn as { write(data: Buffer, cb: () => void): unknown, destroyed?: boolean }
  if (conn.destroyed === true) {
    then()
    return
  }
  conn.write(Buffer.from([0x20, 0x02, 0x00, returnCode]), () => then())
}

function aclRefusal (reason: string | undefined): Refusal | undefined {
  return reason === undefined ? undefined : { code: 'publish_refused', message: reason }
}

function checkPublish (packet: PublishPacket, maxBytes: number): Refusal | undefined {
  const topic = packet.topic
  if (topic.startsWith('$SYS/') || topic === '$SYS') {
    return { code: 'publish_refused', message: '$SYS/ topics are reserved for the broker' }
  }
  const size = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length
  if (size > maxBytes) {
    return { code: 'wire_payload_too_large', message: `payload of ${size} bytes exceeds the limit of ${maxBytes} bytes` }
  }
  if (isSystemTopic(topic)) {
    return { code: 'publish_refused', message: `${SYSTEM_PREFIX} topics are published by the runtime only` }
  }
  // A plugin's oplog feed is the runtime's record of what workers did: a client writing there forges it.
  if (isPluginsTopic(topic)) {
    return { code: 'publish_refused', message: 'plugin feeds are published by the runtime only' }
  }
  const agent = parseAgentTopic(topic)
  if (agent !== undefined && RUNTIME_ONLY_CHANNELS.has(agent.channel)) {
    return {
      code: 'publish_refused',
      message: `${topic} is published by the actor itself; a client publishing it is spoofing`,
      targetId: agent.id,
    }
  }
  return undefined
}
