/**
 * Home Assistant MQTT discovery, parsed: `<prefix>/<component>/[<node_id>/]<object_id>/config`, payloads with
 * abbreviated keys expanded, and device-based discovery (`<prefix>/device/<object_id>/config` with `cmps`).
 */
export interface DiscoveryTopic { component: string, nodeId: string | undefined, objectId: string }

/** Home Assistant accepts only these characters in component, node_id and object_id levels. */
const LEVEL = /^[a-zA-Z0-9_-]+$/

export function parseDiscoveryTopic (prefix: string, topic: string): DiscoveryTopic | undefined {
  const parts = topic.split('/')
  if (parts[0] !== prefix || parts[parts.length - 1] !== 'config') return undefined
  if (parts.length !== 4 && parts.length !== 5) return undefined
  const levels = parts.slice(1, -1)
  if (!levels.every((l) => LEVEL.test(l))) return undefined
  const [component, a, b] = levels as [string, string, string | undefined]
  return b === undefined ? { component, nodeId: undefined, objectId: a } : { component, nodeId: a, objectId: b }
}

/** The abbreviations Home Assistant documents for discovery payloads that matter for a device map. */
const ABBREVIATIONS: Record<string, string> = {
  dev: 'device', ids: 'identifiers', cns: 'connections', mf: 'manufacturer', mdl: 'model', mdl_id: 'model_id',
  sw: 'sw_version', hw: 'hw_version', sa: 'suggested_area', via_dev: 'via_device', cu: 'configuration_url',
  uniq_id: 'unique_id', obj_id: 'object_id', def_ent_id: 'default_entity_id', stat_t: 'state_topic',
  cmd_t: 'command_topic', dev_cla: 'device_class', unit_of_meas: 'unit_of_measurement', stat_cla: 'state_class',
  avty_t: 'availability_topic', json_attr_t: 'json_attributes_topic', val_tpl: 'value_template', ic: 'icon',
  ent_cat: 'entity_category', en: 'enabled_by_default', cmps: 'components', p: 'platform', o: 'origin',
}

/** Far deeper than any real discovery config (device, components, their fields). */
const MAX_DEPTH = 32

export function expand (value: unknown, depth = 0): unknown {
  // A client's payload may nest arrays 100 000 deep (JSON.parse takes it); walking it would overflow the stack.
  if (depth > MAX_DEPTH) throw new Error(`discovery payload nests deeper than ${MAX_DEPTH} levels`)
  if (Array.isArray(value)) return value.map((v) => expand(v, depth + 1))
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    // `components` keys are user ids, not abbreviations: expand their values only.
    if (key === 'cmps' || key === 'components') {
      out.components = Object.fromEntries(Object.entries((v ?? {}) as Record<string, unknown>).map(([k, c]) => [k, expand(c, depth + 2)]))
    } else {
      out[ABBREVIATIONS[key] ?? key] = expand(v, depth + 1)
    }
  }
  return out
}

export interface HaEntity {
  entity_id: string
  name: string | null
  component: string
  unique_id: string | null
  device_class: string | null
  unit_of_measurement: string | null
  state_topic: string | null
  command_topic: string | null
  discovery_topic: string
  device_key: string
}

export interface HaDevice {
  id: string
  name: string | null
  manufacturer: string | null
  model: string | null
  sw_version: string | null
  hw_version: string | null
  identifiers: string[]
  via_device: string | null
  suggested_area: string | null
  /** True when the discovery payload named no device and the entity is listed on its own. */
  standalone: boolean
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null)

/** Options a device-based discovery payload shares with all its components (a component may override them). */
const SHARED = ['state_topic', 'command_topic', 'availability_topic', 'availability', 'qos', 'encoding', '~']

/** Replaces the `~` abbreviation at the start or end of every `*_topic` value with the base topic. */
function withBaseTopic (c: Record<string, unknown>): Record<string, unknown> {
  const base = c['~']
  if (typeof base !== 'string') return c
  const out: Record<string, unknown> = { ...c }
  for (const [key, value] of Object.entries(c)) {
    if (!key.endsWith('_topic') || typeof value !== 'string') continue
    if (value.startsWith('~')) out[key] = base + value.slice(1)
    else if (value.endsWith('~')) out[key] = value.slice(0, -1) + base
  }
  return out
}

/** Turns one expanded discovery config into entities (several for device-based discovery) and their device. */
export function entitiesFrom (topic: string, where: DiscoveryTopic, config: Record<string, unknown>): { entities: HaEntity[], device: HaDevice } {
  const device = deviceFrom(config.device, where, config)
  const one = (component: string, objectId: string, raw: Record<string, unknown>): HaEntity => {
    const c = withBaseTopic(raw)
    return {
      entity_id: `${component}.${slug(str(c.object_id) ?? objectId)}`,
      name: str(c.name),
      component,
      unique_id: str(c.unique_id),
      device_class: str(c.device_class),
      unit_of_measurement: str(c.unit_of_measurement),
      state_topic: str(c.state_topic),
      command_topic: str(c.command_topic),
      discovery_topic: topic,
      device_key: device.id,
    }
  }
  if (where.component === 'device') {
    const components = typeof config.components === 'object' && config.components !== null ? config.components : {}
    const shared = Object.fromEntries(SHARED.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]))
    const entities = Object.entries(components as Record<string, Record<string, unknown>>)
      .filter(([, c]) => typeof c === 'object' && c !== null && typeof c.platform === 'string')
      .map(([key, c]) => one(c.platform as string, key, { ...shared, ...c }))
    return { entities, device }
  }
  return { entities: [one(where.component, where.objectId, config)], device }
}

function deviceFrom (raw: unknown, where: DiscoveryTopic, config: Record<string, unknown>): HaDevice {
  const d = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
  const identifiers = (Array.isArray(d.identifiers) ? d.identifiers : d.identifiers === undefined ? [] : [d.identifiers])
    .map(str).filter((x): x is string => x !== null)
  const connections = Array.isArray(d.connections)
    ? d.connections.filter(Array.isArray).map((c: unknown[]) => c.map(String).join(':'))
    : []
  const key = identifiers[0] ?? connections[0]
  const standalone = key === undefined
  return {
    id: standalone ? `standalone:${where.nodeId ?? str(config.unique_id) ?? where.objectId}` : key,
    name: str(d.name),
    manufacturer: str(d.manufacturer),
    model: str(d.model),
    sw_version: str(d.sw_version),
    hw_version: str(d.hw_version),
    identifiers: [...identifiers, ...connections],
    via_device: str(d.via_device),
    suggested_area: str(d.suggested_area),
    standalone,
  }
}

function slug (text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'unnamed'
}
