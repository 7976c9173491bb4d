/**
 * Every MQTT topic Colony publishes or listens to is built and parsed here, so the wire contract lives in
 * one file. See the README's topic table.
 */
export type AgentChannel = 'spawn' | 'heartbeat' | 'status' | 'alert' | 'chat' | 'commands'

export const topics = {
  spawn: (id: string) => `agents/${id}/spawn`,
  heartbeat: (id: string) => `agents/${id}/heartbeat`,
  status: (id: string) => `agents/${id}/status`,
  alert: (id: string) => `agents/${id}/alert`,
  chat: (id: string) => `agents/${id}/chat`,
  commands: (id: string) => `agents/${id}/commands`,
  systemHealth: 'system/health',
  systemSpawn: 'system/spawn',
  /** Publishes the broker refused (spoofing, oversized, reserved topics); read by qa-agent. */
  systemViolations: 'system/violations',
  /** The latest Home Assistant device map, retained. */
  systemHaMap: 'system/ha-map',
  ioChat: 'io/chat',
} as const

/** Channels only the runtime itself may publish: a client doing so is spoofing an actor. */
export const RUNTIME_ONLY_CHANNELS: ReadonlySet<string> = new Set(['spawn', 'heartbeat', 'status', 'alert'])

export interface AgentTopic { id: string, channel: string }

/** `agents/{id}/{channel}` -> `{id, channel}`; anything else -> undefined. */
export function parseAgentTopic (topic: string): AgentTopic | undefined {
  if (!topic.startsWith('agents/')) return undefined
  const rest = topic.slice(7)
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
