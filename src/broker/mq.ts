import mqemitter from 'mqemitter'

interface Counted { brokerId?: unknown, brokerCounter?: number, topic: string }

/**
 * The message emitter Aedes routes through (its `mq` extension point), with one change: a packet's
 * `brokerCounter` is assigned when it is emitted, not when Aedes constructs it.
 *
 * Aedes drops a packet whose counter is lower than the last one it delivered to a client (its dedupe for
 * overlapping subscriptions). Counters are taken before the retained-message store, which is asynchronous, so
 * a retained publish can be emitted after a newer plain one and is then silently dropped (moscajs/aedes#955,
 * #994). Numbering in emit order keeps dedupe doing its real job (one delivery per client when several of its
 * subscriptions match) without losing messages.
 */
export function createOrderedEmitter (concurrency: number, nextCounter: () => number): mqemitter.MQEmitter {
  const mq = mqemitter({ concurrency, matchEmptyLevels: true })
  const emit = mq.emit.bind(mq)
  mq.emit = (message: mqemitter.Message, callback?: (error?: Error) => void): void => {
    const packet = message as Counted
    if (packet.brokerId !== undefined && packet.brokerId !== null) packet.brokerCounter = nextCounter()
    emit(message, callback)
  }
  return mq
}
