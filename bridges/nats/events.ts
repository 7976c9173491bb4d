import { randomUUID } from 'node:crypto'
import { topics, type ActorContext } from '../../src/index.js'
import type { NatsLink } from './connection.js'

export interface CloudEvent {
  specversion: '1.0'
  id: string
  type: string
  source: string
  time: string
  datacontenttype: 'application/json'
  data: Record<string, unknown>
}

/** Event data fields that must not leave NATS: a config's values (the NATS account is trusted, MQTT users may not be). */
const PRIVATE_FIELDS = ['entries']

/** Events kept until the host first joins the lattice (what it restored at start-up); more are dropped. */
const MAX_HELD = 1000

/**
 * Publishes host events as CloudEvents 1.0 (`type` = `com.wasmcloud.lattice.<name>`, `source` = the host id) on
 * wasmCloud's `wasmbus.evt.{lattice}.{name}` and on the seed's `{prefix}.v1.{lattice}.evt.{hostId}`, and mirrors
 * each on MQTT. Events from before the host first joins (the components and providers it restored) are held and
 * published right after `host_started`; while NATS is down later, the NATS copies are counted as dropped.
 */
export class EventPublisher {
  published = 0
  dropped = 0
  private held: Array<{ name: string, json: string }> | undefined = []

  constructor (
    private readonly link: NatsLink,
    private readonly actor: ActorContext,
    private readonly hostId: string,
    private readonly lattice: string,
    private readonly ctlPrefix: string,
    private readonly now: () => number,
  ) {}

  emit (name: string, data: Record<string, unknown>): CloudEvent {
    const event: CloudEvent = {
      specversion: '1.0',
      id: randomUUID(),
      type: `com.wasmcloud.lattice.${name}`,
      source: this.hostId,
      time: new Date(this.now()).toISOString(),
      datacontenttype: 'application/json',
      data,
    }
    const json = JSON.stringify(event)
    if (this.held !== undefined && !this.link.connected) {
      if (this.held.length < MAX_HELD) this.held.push({ name, json })
      else this.dropped++
    } else {
      this.send(name, json)
    }
    this.mirror(event)
    return event
  }

  /** The host joined the lattice for the first time (after its `host_started`): what was held goes out, in order. */
  joined (): void {
    const held = this.held ?? []
    this.held = undefined
    for (const { name, json } of held) this.send(name, json)
  }

  private send (name: string, json: string): void {
    const a = this.link.publish(`wasmbus.evt.${this.lattice}.${name}`, json)
    const b = this.link.publish(`${this.ctlPrefix}.v1.${this.lattice}.evt.${this.hostId}`, json)
    if (a && b) this.published++
    else this.dropped++
  }

  /** Puts an event (ours or another host's) on MQTT, without private fields. */
  mirror (event: CloudEvent): void {
    const name = event.type.slice(event.type.lastIndexOf('.') + 1)
    let data = event.data
    if (PRIVATE_FIELDS.some((f) => f in data)) {
      data = { ...data }
      for (const f of PRIVATE_FIELDS) delete data[f]
    }
    this.actor.publish(topics.latticeEvent(name), { ...event, data, timestampMs: this.now() })
  }
}
