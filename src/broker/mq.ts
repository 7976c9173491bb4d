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
  cacheMatches(mq)
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

/** The part of mqemitter's topic matcher (a Qlobber) that subscriptions and publishes use. */
interface Matcher {
  match(topic: string): unknown[]
  add(topic: string, value: unknown): unknown
  remove(topic: string, value?: unknown): unknown
  clear(): unknown
}

/** How many topics' matches are kept; past that the cache starts over (a full heartbeat round is one per actor). */
const MATCH_CACHE_TOPICS = 200_000

/**
 * Remembers the subscribers matched for each topic until the subscriptions change. Publishes vastly outnumber
 * subscription changes and most topics recur (every actor's heartbeat topic, every interval), while a Qlobber
 * match splits the topic and walks the trie each time. mqemitter only iterates the array it gets, so the same
 * array can be handed out again.
 */
export function cacheMatches (mq: mqemitter.MQEmitter): void {
  const matcher = (mq as unknown as { _matcher: Matcher })._matcher
  let cache = new Map<string, unknown[]>()
  const match = matcher.match.bind(matcher)
  const add = matcher.add.bind(matcher)
  const remove = matcher.remove.bind(matcher)
  const clear = matcher.clear.bind(matcher)
  const forget = (): void => { if (cache.size > 0) cache = new Map() }
  matcher.match = (topic) => {
    let found = cache.get(topic)
    if (found === undefined) {
      found = match(topic)
      if (cache.size >= MATCH_CACHE_TOPICS) cache = new Map()
      cache.set(topic, found)
    }
    return found
  }
  matcher.add = (topic, value) => { forget(); return add(topic, value) }
  matcher.remove = (topic, value) => { forget(); return remove(topic, value) }
  matcher.clear = () => { forget(); return clear() }
}
