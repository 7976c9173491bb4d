import type { Aedes, AedesPublishPacket } from 'aedes'
import type { Logger } from '../log.js'
import type { Identity } from '../auth/identity.js'

/** A message as in-process subscribers see it. `clientId` is set only when an MQTT client published it. */
export interface BusMessage {
  topic: string
  payload: Buffer
  retain: boolean
  qos: 0 | 1 | 2
  clientId: string | undefined
  /** Who the publishing client authenticated as; undefined for the runtime's own publishes. */
  identity: Identity | undefined
}

export type BusHandler = (message: BusMessage) => void
export type Unsubscribe = () => void

export interface PublishOptions {
  retain?: boolean
  qos?: 0 | 1
}

export interface SubscribeOptions {
  /** Also deliver the retained messages that match, as a new MQTT subscriber would get them. */
  retained?: boolean
}

/**
 * Marks a payload this bus serialized as JSON. A symbol-keyed property, not a WeakSet: adding to a WeakSet cost
 * ~0.5 µs per publish (and weak entries slow every scavenge), the property about nothing.
 */
const JSON_TEXT = Symbol('colony.jsonText')
interface JsonMarked { [JSON_TEXT]: true }
function markJson (buf: Buffer): void {
  (buf as Buffer & JsonMarked)[JSON_TEXT] = true
}

/**
 * A QoS 0 publish as Aedes' own packet wrapper makes it (aedes-packet): the broker id marks it as this broker's, and
 * the counter is assigned by the ordered emitter when it is emitted (see mq.ts).
 */
class InProcessPacket {
  readonly cmd = 'publish'
  readonly brokerCounter = 0
  readonly qos = 0
  readonly retain = false
  readonly dup = false
  constructor (readonly brokerId: string, readonly topic: string, readonly payload: Buffer) {}
}

/** Topic levels, as Aedes counts them before refusing a publish (its limit protects qlobber's trie). */
function levels (topic: string): number {
  let n = 1
  for (let i = topic.indexOf('/'); i !== -1; i = topic.indexOf('/', i + 1)) n++
  return n
}

/** The parts of Aedes the QoS 0 path uses that its typings leave out: the emitter it was given and its level limit. */
interface AedesEmitter { mq: { emit(packet: object, done: (err?: Error | null) => void): void }, maxTopicLevels: number }

interface Pending { topic: string, payload: Buffer, retain: boolean, qos: 0 | 1, done: ((err?: Error) => void) | undefined }

/**
 * The in-process path between actors and the embedded broker: no socket, no MQTT client.
 *
 * Aedes' publish pipeline degrades badly when thousands of publishes are outstanding (mqemitter drains its
 * overflow with `Array.shift`, see notes/performance.md), so at most `maxInflight` publishes are handed to
 * Aedes at once; the rest wait in a FIFO here, in order, and nothing is dropped. Callers that can coalesce
 * (the heartbeat scheduler) check `saturated` and skip instead of queueing.
 *
 * Aedes, mqemitter and fastparallel call each other back synchronously: an in-process delivery that completes
 * at once finishes its publish, which lets mqemitter start the next queued message and the bus send the next
 * queued publish, all on the same stack. Under a burst (thousands queued behind slow MQTT subscribers) that
 * chain once grew until `Maximum call stack size exceeded` killed the process. So nothing here recurses:
 * - a delivery that completes while another completion is running is queued and completed by the outermost
 *   one, in a loop (`complete`); a catch-all listener runs every message through this, including messages
 *   no one else subscribes to (mqemitter completes those synchronously too);
 * - `pump` is not re-entered: a publish that completes while the pump loop sends is picked up by that loop;
 * - a handler that publishes (an alert for a full mailbox, a refusal) does not re-enter Aedes from inside the
 *   delivery: its publish is queued, in order, and sent on the next microtask.
 */
export class Bus {
  private inflight = 0
  private queue: Array<Pending | undefined> = []
  private head = 0
  private readonly drainWaiters: Array<() => void> = []
  /** Handlers running right now (a publish from one of them is queued, not sent into Aedes). */
  private delivering = 0
  private pumping = false
  private pumpScheduled = false
  /** Delivery completions waiting for the outermost completion on the stack to run them. */
  private completions: Array<(() => void) | undefined> = []
  private completionsHead = 0
  private completing = false
  published = 0
  private readonly emitter: AedesEmitter
  /** Set by the broker: the identity of a connected client, by client id. */
  identityOf: (clientId: string) => Identity | undefined = () => undefined

  constructor (
    private readonly aedes: Aedes,
    private readonly log: Logger,
    readonly maxInflight: number,
  ) {
    this.emitter = aedes as unknown as AedesEmitter
    // Every message gets at least one delivery that goes through `complete`, so a message that only MQTT
    // clients (or nobody) want cannot complete synchronously inside the previous one's completion either.
    this.aedes.subscribe('#', (_packet: AedesPublishPacket, cb: () => void) => { this.complete(cb) }, noop)
  }

  /** True when new publishes would wait in the queue. */
  get saturated (): boolean {
    return this.inflight >= this.maxInflight
  }

  get backlog (): number {
    return this.queue.length - this.head
  }

  /**
   * Publishes `payload` (an object is sent as JSON, a Buffer or string as is) on `topic`.
   * `done` runs once Aedes has delivered it to every subscriber's queue.
   */
  publish (topic: string, payload: unknown, options: PublishOptions = {}, done?: (err?: Error) => void): void {
    let buf: Buffer
    if (Buffer.isBuffer(payload)) buf = payload
    else if (typeof payload === 'string') buf = Buffer.from(payload, 'utf8')
    else {
      buf = Buffer.from(JSON.stringify(payload), 'utf8')
      markJson(buf)
    }
    const item: Pending = { topic, payload: buf, retain: options.retain === true, qos: options.qos ?? 0, done }
    if (this.delivering === 0 && this.inflight < this.maxInflight && this.backlog === 0) {
      this.send(item)
      return
    }
    this.queue.push(item)
    if (this.delivering > 0) this.schedulePump()
  }

  /**
   * Publishes JSON text the caller wrote itself (a heartbeat) as QoS 0, not retained: like `publish` with an
   * object, without building and stringifying one.
   */
  publishJson (topic: string, json: string, done?: (err?: Error) => void): void {
    const buf = Buffer.from(json, 'utf8')
    markJson(buf)
    this.publish(topic, buf, {}, done)
  }

  publishAsync (topic: string, payload: unknown, options: PublishOptions = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.publish(topic, payload, options, (err) => { if (err) reject(err); else resolve() })
    })
  }

  /** Resolves when everything published so far has been handed to subscribers. */
  drained (): Promise<void> {
    if (this.inflight === 0 && this.backlog === 0) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  /** True when the payload was serialized from an object by this bus (so it is known to be JSON). */
  isJson (payload: Buffer): boolean {
    return (payload as Partial<JsonMarked>)[JSON_TEXT] === true
  }

  private send (item: Pending): void {
    this.inflight++
    if (item.retain) this.storeRetained(item)
    const finished = (err?: Error | null): void => {
      this.inflight--
      this.published++
      if (err) this.log.warn({ err, topic: item.topic }, 'in-process publish failed')
      item.done?.(err ?? undefined)
      this.pump()
    }
    // QoS 0 goes straight to the broker's emitter (our own, given to Aedes as its `mq`): of what `aedes.publish`
    // does, the retained store is done above, the offline queue is for QoS > 0 only, and its `published` hook and
    // 'publish' event have no listener here. That skips a pipeline of steps per message (heartbeats are most of
    // the in-process traffic). QoS 1 still takes Aedes' path, which queues for offline persistent sessions.
    if (item.qos === 0) {
      if (levels(item.topic) > this.emitter.maxTopicLevels) {
        finished(new Error('topic has too many levels'))
        return
      }
      this.emitter.mq.emit(new InProcessPacket(this.aedes.id, item.topic, item.payload), finished)
      return
    }
    // Handed to Aedes as a plain publish: its retained path defers the emit by a store round trip, which
    // would let later publishes overtake this one. Stored above instead, in call order, per topic.
    this.aedes.publish({
      cmd: 'publish',
      topic: item.topic,
      payload: item.payload,
      qos: item.qos,
      retain: false,
      dup: false,
    }, finished)
  }

  private storeRetained (item: Pending): void {
    const persistence = (this.aedes as unknown as { persistence: RetainedStore }).persistence
    persistence.storeRetained({ cmd: 'publish', topic: item.topic, payload: item.payload, qos: item.qos, retain: true })
      .catch((err: unknown) => this.log.error({ err, topic: item.topic }, 'could not store a retained message'))
  }

  /** A publish made inside a delivery goes out once that delivery has returned. */
  private schedulePump (): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    queueMicrotask(() => {
      this.pumpScheduled = false
      this.pump()
    })
  }

  private pump (): void {
    // Re-entered from a publish that completed synchronously inside `send`: the loop below goes on with it.
    if (this.pumping) return
    this.pumping = true
    try {
      while (this.inflight < this.maxInflight && this.head < this.queue.length) {
        const item = this.queue[this.head]
        this.queue[this.head++] = undefined
        if (item) this.send(item)
      }
    } finally {
      this.pumping = false
    }
    if (this.head === this.queue.length && this.head > 0) {
      this.queue = []
      this.head = 0
    } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    if (this.inflight === 0 && this.backlog === 0 && this.drainWaiters.length > 0) {
      for (const w of this.drainWaiters.splice(0)) w()
    }
  }

  /**
   * Subscribes `handler` to an MQTT topic filter. The handler runs synchronously inside Aedes' delivery;
   * it must be quick (enqueue into a mailbox, count, append to a buffer) and must not throw (a throw is
   * logged and swallowed so one bad handler cannot wedge the broker). What it publishes goes out after it
   * returns, in order.
   */
  subscribe (filter: string, handler: BusHandler, options: SubscribeOptions = {}): Unsubscribe {
    let active = true
    let replaying = options.retained === true
    const seenLive = new Set<string>()
    // [MQTT-4.7.2-1] a filter starting with a wildcard does not match `$`-topics; mqemitter would match them.
    const wildFirst = filter.startsWith('+') || filter.startsWith('#')
    const deliver = (packet: AedesPublishPacket, cb: () => void): void => {
      if (active && !(wildFirst && packet.topic.startsWith('$'))) {
        if (replaying) seenLive.add(packet.topic)
        this.invoke(handler, packet)
      }
      this.complete(cb)
    }
    this.aedes.subscribe(filter, deliver, noop)
    if (options.retained === true) {
      void this.replayRetained(filter, (packet) => {
        if (active && !seenLive.has(packet.topic)) this.invoke(handler, packet)
      }).finally(() => {
        replaying = false
        seenLive.clear()
      })
    }
    return () => {
      if (!active) return
      active = false
      this.aedes.unsubscribe(filter, deliver, noop)
    }
  }

  /**
   * Completes a delivery. The outermost completion on the stack runs, in order, every completion that its own
   * callback chain caused, so the stack stays flat however many queued messages complete at once.
   */
  private complete (cb: () => void): void {
    if (this.completing) {
      this.completions.push(cb)
      return
    }
    this.completing = true
    try {
      cb()
      while (this.completionsHead < this.completions.length) {
        const next = this.completions[this.completionsHead] as () => void
        this.completions[this.completionsHead++] = undefined
        next()
      }
    } finally {
      this.completing = false
      if (this.completionsHead === this.completions.length) {
        this.completions = []
        this.completionsHead = 0
      } else {
        // A callback threw (Aedes' own code; nothing of ours throws here): the rest must still run.
        queueMicrotask(() => { this.complete(noop) })
      }
    }
  }

  private invoke (handler: BusHandler, packet: AedesPublishPacket): void {
    this.delivering++
    try {
      const clientId = (packet as { clientId?: string }).clientId
      handler({
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        retain: packet.retain,
        qos: packet.qos,
        clientId,
        identity: clientId === undefined ? undefined : this.identityOf(clientId),
      })
    } catch (err) {
      this.log.error({ err, topic: packet.topic }, 'bus subscriber threw; message skipped')
    } finally {
      this.delivering--
    }
  }

  private async replayRetained (filter: string, onPacket: (p: AedesPublishPacket) => void): Promise<void> {
    const persistence = (this.aedes as unknown as { persistence?: RetainedSource }).persistence
    if (persistence === undefined) return
    try {
      for await (const packet of persistence.createRetainedStreamCombi([filter])) {
        if (filter.startsWith('$') || !packet.topic.startsWith('$')) onPacket(packet)
      }
    } catch (err) {
      this.log.warn({ err, filter }, 'could not replay retained messages')
    }
  }
}

interface RetainedSource { createRetainedStreamCombi(patterns: string[]): AsyncIterable<AedesPublishPacket> }
/** Aedes' persistence; the in-memory one applies a store synchronously, so call order is store order. */
interface RetainedStore { storeRetained(packet: Record<string, unknown>): Promise<void> }

function noop (): void {}
