import { isRuntimeTopic, type Unsubscribe } from '../../src/index.js'
import type { BridgeRule } from './topic-map.js'
import type { Lattice } from './lattice.js'

/** The header on every message the bridge forwards into NATS: which host did (and so must not take it back). */
export const ORIGIN_HEADER = 'Colony-Origin'

export interface ForwardStats { toNats: number, toMqtt: number, skipped: number }

/**
 * MQTT <-> NATS forwarding by the configured rules (`nats.bridge`). It never loops: what this bridge publishes on
 * MQTT is recognised by its payload buffer and not sent back to NATS; what it publishes on NATS carries
 * `Colony-Origin` and is not taken back (the connection also has no echo); another host that takes a message into
 * MQTT does not forward it again for the same reason. Topics the runtime owns are never written from NATS.
 */
export function forwardRules (l: Lattice, rules: BridgeRule[]): { stop: Unsubscribe, stats: ForwardStats } {
  const stats: ForwardStats = { toNats: 0, toMqtt: 0, skipped: 0 }
  /** Payloads this bridge put on MQTT: skipped when they come back through its own MQTT subscriptions. */
  const ours = new WeakSet<Buffer>()
  const stops: Unsubscribe[] = []
  const origin = { [ORIGIN_HEADER]: l.host.id }

  for (const rule of rules) {
    if (rule.direction !== 'nats-to-mqtt') {
      stops.push(l.ctx.bus.subscribe(rule.mqtt, (m) => {
        if (ours.has(m.payload)) return
        const subject = rule.toNats(m.topic)
        if (subject === undefined) {
          stats.skipped++
          return
        }
        if (l.link.publish(subject, m.payload, origin)) stats.toNats++
        else stats.skipped++
      }))
    }
    if (rule.direction !== 'mqtt-to-nats') {
      l.link.subscribe(rule.nats, (msg) => {
        if (msg.headers?.get(ORIGIN_HEADER) === l.host.id) return
        const topic = rule.toMqtt(msg.subject)
        if (topic === undefined || !publishable(topic)) {
          stats.skipped++
          return
        }
        const payload = Buffer.from(msg.data)
        ours.add(payload)
        l.ctx.actor.publish(topic, payload)
        stats.toMqtt++
      })
    }
  }
  return { stop: () => { for (const s of stops) s() }, stats }
}

/** Never from outside: `$` topics, `system/`, and the runtime-owned channels of actors. */
function publishable (topic: string): boolean {
  return topic !== '' && !/[+#\0]/.test(topic) && !isRuntimeTopic(topic)
}
