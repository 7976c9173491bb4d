/**
 * Every MQTT topic Colony publishes or listens to is built and parsed here, so the wire contract lives in
 * one file. See the README's topic table.
 */
export type AgentChannel = 'spawn' | 'heartbeat' | 'status' | 'alert' | 'chat' | 'commands'

const AGENTS = 'agents/'
/** What the runtime alone publishes below (named in refusals). */
export const SYSTEM_PREFIX = 'system/'
const LATTICE = 'system/lattice/'
const PLUGINS = 'plugins/'

export const topics = {
  spawn: (id: string) => `agents/${id}/spawn`,
  heartbeat: (id: string) => `agents/${id}/heartbeat`,
  status: (id: string) => `agents/${id}/status`,
  alert: (id: string) => `agents/${id}/alert`,
  chat: (id: string) => `agents/${id}/chat`,
  commands: (id: string) => `agents/${id}/commands`,
  /** Invocation requests to a component. */
  invoke: (id: string) => `agents/${id}/invoke`,
  /** Where a component's invocation replies go when the request names no `replyTo`. */
  reply: (id: string) => `agents/${id}/reply`,
  /** A component's guest output (stdout, stderr, `wasi:logging`). */
  logs: (id: string) => `agents/${id}/logs`,
  systemHealth: 'system/health',
  systemSpawn: 'system/spawn',
  /** Publishes the broker refused (spoofing, oversized, reserved topics); read by qa-agent. */
  systemViolations: 'system/violations',
  /** The latest Home Assistant device map, retained. */
  systemHaMap: 'system/ha-map',
  /** Each NATS control command this host handled (queries are not shown). */
  latticeCtl: 'system/lattice/ctl',
  /** Every lattice event, this host's and (as they arrive) the other hosts'. */
  latticeEvent: (name: string) => `system/lattice/events/${name}`,
  /** A Wrenn platform event (`capsule.created`, `host.down`, ...; see `wire/events.ts`), for notification channels. */
  systemEvent: (event: string) => `system/events/${event}`,
  ioChat: 'io/chat',
  /**
   * A Golem oplog-processor plugin's feed: one message per batch of oplog entries of a worker the plugin is active
   * on. Only the runtime publishes here; only the plugin's team (and admins) may read it.
   */
  pluginOplog: (pluginId: string) => `${PLUGINS}${pluginId}/oplog`,
  /** Not MQTT: the `/ws` stream's own frame telling a slow client how many messages it lost. */
  wsDropped: '$colony/ws/dropped',
} as const

/** Filters over one channel of every actor, and over a Home Assistant discovery prefix. */
export const filters = {
  commands: 'agents/+/commands',
  chat: 'agents/+/chat',
  invoke: 'agents/+/invoke',
  status: 'agents/+/status',
  haDiscovery: (prefix: string) => `${prefix}/#`,
  systemEvents: 'system/events/#',
} as const

/** Everything below `agents/{id}/`, any depth (replies, logs): that actor's topics. */
export const agentPrefix = (id: string): string => `${AGENTS}${id}/`

/** Below `agents/`: an actor's topic (or a filter over actors' topics). */
export const isAgentsTopic = (topic: string): boolean => topic.startsWith(AGENTS)
/** Below `system/`: published by the runtime only. */
export const isSystemTopic = (topic: string): boolean => topic.startsWith(SYSTEM_PREFIX)
/** Below `system/lattice/`: spans every team's components and links. */
export const isLatticeTopic = (topic: string): boolean => topic.startsWith(LATTICE)

/** Below `plugins/`: a plugin's feed (or a filter over plugins' feeds), published by the runtime only. */
export const isPluginsTopic = (topic: string): boolean => topic.startsWith(PLUGINS)

/** The `{pluginId}` level of any topic below `plugins/` ('' when it is empty); undefined for other topics. */
export function pluginLevelOf (topic: string): string | undefined {
  return isPluginsTopic(topic) ? topic.split('/')[1] ?? '' : undefined
}

/** The `{id}` level of any topic below `agents/` ('' when it is empty); undefined for other topics. */
export function agentLevelOf (topic: string): string | undefined {
  return isAgentsTopic(topic) ? topic.split('/')[1] ?? '' : undefined
}

/** Channels only the runtime itself may publish: a client doing so is spoofing an actor. */
export const RUNTIME_ONLY_CHANNELS: ReadonlySet<string> = new Set(['spawn', 'heartbeat', 'status', 'alert'])

/**
 * Topics only the runtime (or the broker) publishes: `$`-topics, `system/`, `plugins/` and the runtime-only channels
 * of actors.
 * Neither a client's invocation reply, nor a component, nor a message from NATS may be published there.
 */
export function isRuntimeTopic (topic: string): boolean {
  if (topic.startsWith('$') || isSystemTopic(topic) || isPluginsTopic(topic)) return true
  const agent = parseAgentTopic(topic)
  return agent !== undefined && RUNTIME_ONLY_CHANNELS.has(agent.channel)
}

export interface AgentTopic { id: string, channel: string }

/** `agents/{id}/{channel}` -> `{id, channel}`; anything else -> undefined. */
export function parseAgentTopic (topic: string): AgentTopic | undefined {
  if (!isAgentsTopic(topic)) return undefined
  const rest = topic.slice(AGENTS.length)
  const slash = rest.indexOf('/')
  if (slash <= 0 || slash === rest.length - 1 || rest.indexOf('/', slash + 1) !== -1) return undefined
  return { id: rest.slice(0, slash), channel: rest.slice(slash + 1) }
}

/** Topic filter validity per MQTT 3.1.1 §4.7: `#` only last and alone in its level, `+` alone in its level. */
export function isValidFilter (filter: string): boolean {
  // [MQTT-4.7.3-3] the limit is 65535 bytes of UTF-8, not characters.
  if (filter.length === 0 || Buffer.byteLength(filter, 'utf8') > 65535 || filter.includes('\0')) return false
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false
    if (level.includes('+') && level !== '+') return false
  }
  return true
}

/**
 * Does `topic` match `filter`? Wildcards at the first level do not match `$`-topics [MQTT-4.7.2-1].
 * Compiled once per filter by `compileFilter` for hot paths.
 */
export function matchesFilter (filter: string, topic: string): boolean {
  return compileFilter(filter)(topic)
}

export function compileFilter (filter: string): (topic: string) => boolean {
  if (filter === '#') return (topic) => !topic.startsWith('$')
  const f = filter.split('/')
  const wildFirst = f[0] === '+' || f[0] === '#'
  return (topic) => {
    if (wildFirst && topic.startsWith('$')) return false
    const t = topic.split('/')
    for (let i = 0; i < f.length; i++) {
      const level = f[i]
      if (level === '#') return true
      if (i >= t.length) return false
      if (level !== '+' && level !== t[i]) return false
    }
    return t.length === f.length
  }
}
