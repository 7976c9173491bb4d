import {
  ALERT_CODES, filters, int, parseJson, section, text, toColonyError, topics, type ActorKind, type MqttMessage, type SettingsOf,
} from '../src/index.js'
import { entitiesFrom, expand, parseDiscoveryTopic, type HaDevice, type HaEntity } from './ha-discovery.js'

/** The map's settings. The discovery prefix is also the one the ACL guards (the runtime reads it there too). */
export const haMapSettings = section('haMap', {
  discoveryPrefix: text('homeassistant', { pattern: /^[A-Za-z0-9_-]+$/, hint: 'one MQTT topic level' }),
  debounceMs: int(100, { min: 0, max: 60_000 }),
  maxEntities: int(10_000, { min: 1, max: 10_000_000 }),
})
type HaMapSettings = SettingsOf<typeof haMapSettings>
declare module '../src/index.js' {
  interface ColonyConfig { haMap: HaMapSettings }
}

interface Change { action: 'create' | 'update' | 'remove', discovery_topic: string, entity_ids: string[] }

/**
 * Builds the Home Assistant device map from MQTT discovery messages and publishes it, debounced and retained,
 * on `system/ha-map` in the Wactorz seed's shape; the REST bridge serves the latest one at `GET /ha-map`.
 * Retained discovery configs are replayed on start, so a restart rebuilds the same map.
 */
export const haMapKind: ActorKind<Record<string, unknown>, HaMapSettings> = {
  kind: 'ha-map',
  settings: haMapSettings,
  agentType: 'home-assistant',
  protected: true,
  help: 'help — this text\nsummary — how many devices and entities are mapped',
  deps: ({ config }) => config.haMap,
  create (ctx) {
    const { discoveryPrefix, debounceMs, maxEntities } = ctx.deps
    /** discovery topic -> the entities it declared, and their device */
    const configs = new Map<string, { entities: HaEntity[], device: HaDevice }>()
    let entityCount = 0
    let pending: Change[] = []
    let timer: unknown
    let limitAlerted = false

    const snapshot = (): Record<string, unknown> => {
      const devices = new Map<string, HaDevice & { entities: HaEntity[] }>()
      for (const { entities, device } of configs.values()) {
        const entry = devices.get(device.id) ?? { ...device, entities: [] }
        // A later config with more device detail fills in what an earlier one left out.
        const fields = entry as unknown as Record<string, unknown>
        for (const [k, v] of Object.entries(device)) if (fields[k] === null && v !== null) fields[k] = v
        entry.entities.push(...entities)
        devices.set(device.id, entry)
      }
      const last = pending[pending.length - 1]
      return {
        type: 'home_assistant_map_update',
        event_type: 'entity_registry_updated',
        timestamp: ctx.clock.now() / 1000,
        event: last === undefined ? {} : { ...last, changes: pending.length },
        devices: [...devices.values()].sort((a, b) => a.id.localeCompare(b.id)),
      }
    }

    const changed = (change: Change): void => {
      pending.push(change)
      if (timer === undefined) timer = ctx.schedule(debounceMs, { type: 'publish-map' })
    }

    const onDiscovery = (m: MqttMessage): void => {
      const where = parseDiscoveryTopic(discoveryPrefix, m.topic)
      if (where === undefined) return
      const previous = configs.get(m.topic)
      if (m.payload.length === 0) {
        if (previous === undefined) return
        configs.delete(m.topic)
        entityCount -= previous.entities.length
        changed({ action: 'remove', discovery_topic: m.topic, entity_ids: previous.entities.map((e) => e.entity_id) })
        return
      }
      let config: unknown
      try {
        config = expand(parseJson(m.payload))
        if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new Error('discovery payload must be a JSON object')
      } catch (err) {
        const e = toColonyError(err)
        ctx.alert('error', `discovery message on ${m.topic} ignored: ${e.code === 'internal_error' ? (err as Error).message : e.message}`,
          { code: 'wire_invalid_payload', topic: m.topic })
        return
      }
      const parsed = entitiesFrom(m.topic, where, config as Record<string, unknown>)
      const growth = parsed.entities.length - (previous?.entities.length ?? 0)
      if (entityCount + growth > maxEntities) {
        if (!limitAlerted) ctx.alert('warning', `Home Assistant map is full (${maxEntities} entities); new discovery configs are ignored`, { code: ALERT_CODES.haMapFull })
        limitAlerted = true
        return
      }
      configs.set(m.topic, parsed)
      entityCount += growth
      changed({ action: previous === undefined ? 'create' : 'update', discovery_topic: m.topic, entity_ids: parsed.entities.map((e) => e.entity_id) })
    }

    return {
      start () {
        ctx.subscribe(filters.haDiscovery(discoveryPrefix), { retained: true })
      },
      receive (message) {
        if (message.type === 'publish-map') {
          timer = undefined
          ctx.publish(topics.systemHaMap, snapshot(), { retain: true })
          pending = []
          return
        }
        if (message.type === 'mqtt') onDiscovery(message as MqttMessage)
      },
      chat (message) {
        if (message.content.trim() === 'summary') {
          const devices = new Set([...configs.values()].map((c) => c.device.id))
          return `${devices.size} devices, ${entityCount} entities from ${configs.size} discovery configs`
        }
        return `ha-map-agent understands:\n${haMapKind.help ?? ''}`
      },
      heartbeat: () => ({ entities: entityCount, discoveryConfigs: configs.size }),
    }
  },
}
