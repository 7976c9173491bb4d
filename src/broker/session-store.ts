import type { Readable } from 'node:stream'

interface QueuedPacket { cmd?: string, brokerId?: unknown, brokerCounter?: number, messageId?: number, dup?: boolean }

/** The part of Aedes' persistence that keeps persistent sessions' outgoing QoS 1/2 messages. */
export interface OutgoingStore {
  outgoingUpdate(client: unknown, packet: QueuedPacket): Promise<void>
  outgoingStream(client: unknown): Readable
}

/**
 * Adapts Aedes' outgoing-message store to Colony's broker, for persistent (`clean: false`) sessions:
 *
 * - A live QoS 1/2 delivery updates the session's queued copy, found by broker id and counter. The ordered
 *   emitter renumbers packets after they were queued (see mq.ts), so the lookup uses the counter the copy was
 *   queued under; without this the update fails ("no such packet") and Aedes disconnects the client.
 * - A queued message that was already sent once (it has a packet id) is sent again on reconnect with the DUP
 *   flag set [MQTT-3.3.1-1]; Aedes resends it as it was.
 */
export function adaptSessionStore (store: OutgoingStore, brokerId: string, counterBeforeEmit: (emitted: number) => number | undefined): void {
  const update = store.outgoingUpdate.bind(store)
  store.outgoingUpdate = (client, packet) => {
    if (packet.brokerId === brokerId && packet.brokerCounter !== undefined) {
      const first = counterBeforeEmit(packet.brokerCounter)
      if (first !== undefined) packet.brokerCounter = first
    }
    return update(client, packet)
  }
  const stream = store.outgoingStream.bind(store)
  store.outgoingStream = (client) => stream(client).map((packet: QueuedPacket) => {
    if (packet.cmd === 'publish' && packet.messageId !== undefined) packet.dup = true
    return packet
  })
}
