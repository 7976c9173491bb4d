import mqemitter from 'mqemitter'

interface Counted { brokerId?: unknown, brokerCounter?: number, topic: string, qos?: number }

export interface OrderedEmitter {
  mq: mqemitter.MQEmitter
  /**
   * The counter Aedes gave a packet that this emitter renumbered to `emitted`, while the packet is being
   * delivered (undefined before and after, and for packets that were not renumbered).
   */
  counterBeforeEmit: (emitted: number) => number | undefined
}

/**
 * The message emitter Aedes routes through (its `mq` extension point), with one change: a packet's
 * `brokerCounter` is assigned when it is emitted, not when Aedes constructs it.
 *
 * Aedes drops a packet whose counter is lower than the last one it delivered to a client (its dedupe for
 * overlapping subscriptions). Counters are taken before the retained-message store and the offline queue,
 * which are asynchronous, so a retained or QoS 1/2 publish can be emitted after a newer plain one and is then
 * silently dropped (moscajs/aedes#955, #994). Numbering in emit order keeps dedupe doing its real job (one
 * delivery per client when several of its subscriptions match) without losing messages.
 *
 * A QoS 1/2 packet has already been copied into persistent sessions' queues under its first counter, and
 * Aedes finds that copy by counter when it sends it live; `counterBeforeEmit` answers the first counter
 * until every subscriber has been handed the packet, so the session store can be pointed at it.
 */
export function createOrderedEmitter (concurrency: number, nextCounter: () => number): OrderedEmitter {
  const mq = mqemitter({ concurrency, matchEmptyLevels: true })
  const emit = mq.emit.bind(mq)
  const firstCounters = new Map<number, number>()
  mq.emit = (message: mqemitter.Message, callback?: (error?: Error) => void): void => {
    const packet = message as Counted
    if (packet.brokerId === undefined || packet.brokerId === null) {
      emit(message, callback)
      return
    }
    const first = packet.brokerCounter
    const counter = nextCounter()
    packet.brokerCounter = counter
    if (first === undefined || (packet.qos ?? 0) === 0) {
      emit(message, callback)
      return
    }
    // mqemitter calls back once every listener has finished with the packet (Aedes' deliverQoS calls back
    // after its session update and write), so nothing asks for the first counter after this.
    firstCounters.set(counter, first)
    emit(message, (err?: Error) => {
      firstCounters.delete(counter)
      callback?.(err)
    })
  }
  return { mq, counterBeforeEmit: (emitted) => firstCounters.get(emitted) }
}
