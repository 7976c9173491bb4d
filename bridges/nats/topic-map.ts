import { isAgentsTopic, isSystemTopic, isValidFilter } from '../../src/index.js'

/**
 * MQTT topic <-> NATS subject rules (config `nats.bridge`), e.g. `sensors/# <-> sensors.>`. Wildcards correspond
 * (`+` <-> `*`, `#` <-> `>`), literal levels may differ (`home/+/temp -> site.*.temperature`), and what a wildcard
 * matched on one side fills the same wildcard on the other.
 */
export type Direction = 'both' | 'mqtt-to-nats' | 'nats-to-mqtt'

export interface BridgeRule {
  mqtt: string
  nats: string
  direction: Direction
  /** The NATS subject for an MQTT topic the rule's filter matches, or undefined (no match, or a level NATS cannot carry). */
  toNats(topic: string): string | undefined
  /** The MQTT topic for a NATS subject the rule's pattern matches, or undefined. */
  toMqtt(subject: string): string | undefined
}

const ARROWS: Array<[string, Direction]> = [['<->', 'both'], ['->', 'mqtt-to-nats'], ['<-', 'nats-to-mqtt']]
/** MQTT topics the runtime owns: nothing from outside may be published there through a rule. */
const reservedMqtt = (filter: string): boolean => /^[$+#]/.test(filter) || isSystemTopic(filter) || isAgentsTopic(filter)
/** NATS subjects a rule may not feed: the control interface, JetStream's API and reply inboxes. */
const RESERVED_NATS = /^(\$|_INBOX\.|wasmbus\.|[*>])/
const NATS_TOKEN = /^[^\s.*>]+$/

/** Parses `rule; rule; ...`; throws an Error whose message says which rule is wrong and why. */
export function parseBridgeRules (text: string): BridgeRule[] {
  const rules: BridgeRule[] = []
  for (const raw of text.split(';')) {
    const part = raw.trim()
    if (part === '') continue
    const arrow = ARROWS.find(([a]) => part.includes(` ${a} `))
    if (arrow === undefined) throw new Error(`bridge rule "${part.slice(0, 80)}" needs "<mqtt filter> <-> <nats subject>" (or -> / <-)`)
    const [mqtt = '', nats = ''] = part.split(` ${arrow[0]} `).map((s) => s.trim())
    rules.push(compileRule(mqtt, nats, arrow[1]))
  }
  return rules
}

function compileRule (mqtt: string, nats: string, direction: Direction): BridgeRule {
  const where = `bridge rule "${mqtt} ${direction} ${nats}"`
  if (!isValidFilter(mqtt) || /\s/.test(mqtt)) throw new Error(`${where}: "${mqtt}" is not a valid MQTT topic filter`)
  if (!isValidSubject(nats)) throw new Error(`${where}: "${nats}" is not a valid NATS subject (tokens separated by ".", "*" or a final ">")`)
  const mLevels = mqtt.split('/')
  const nTokens = nats.split('.')
  const mWild = mLevels.filter((l) => l === '+' || l === '#').map((l) => (l === '+' ? '*' : '>'))
  const nWild = nTokens.filter((t) => t === '*' || t === '>')
  if (mWild.join(',') !== nWild.join(',')) {
    throw new Error(`${where}: both sides need the same wildcards in the same order (+ with *, # with >)`)
  }
  if (direction !== 'mqtt-to-nats' && reservedMqtt(mqtt)) {
    throw new Error(`${where}: messages from NATS may not be published on $, system/ or agents/ topics (the runtime owns them)`)
  }
  if (direction !== 'nats-to-mqtt' && RESERVED_NATS.test(nats)) {
    throw new Error(`${where}: MQTT messages may not be published on $, _INBOX. or wasmbus. subjects`)
  }
  return {
    mqtt,
    nats,
    direction,
    toNats: (topic) => translate(mLevels, topic.split('/'), nTokens, '.', (s) => NATS_TOKEN.test(s)),
    toMqtt: (subject) => translate(nTokens, subject.split('.'), mLevels, '/', (s) => !/[+#/\0]/.test(s)),
  }
}

/** Matches `parts` against `pattern` (single / multi wildcards in either syntax), then fills `target`'s wildcards. */
function translate (pattern: string[], parts: string[], target: string[], sep: string, valid: (s: string) => boolean): string | undefined {
  const captures: string[] = []
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string
    if (p === '#' || p === '>') {
      const rest = parts.slice(i)
      // `#` also matches its parent level alone; the other side's `>` cannot be empty, so that message is not carried.
      if (rest.length === 0 || !rest.every(valid)) return undefined
      captures.push(rest.join(sep))
      break
    }
    const part = parts[i]
    if (part === undefined) return undefined
    if (p === '+' || p === '*') {
      if (!valid(part)) return undefined
      captures.push(part)
    } else if (p !== part) return undefined
    if (i === pattern.length - 1 && parts.length !== pattern.length) return undefined
  }
  let next = 0
  return target.map((t) => (t === '+' || t === '*' || t === '#' || t === '>' ? captures[next++] : t)).join(sep)
}

/** NATS subject syntax: non-empty tokens without whitespace; `*` a whole token; `>` only as the last token. */
export function isValidSubject (subject: string): boolean {
  if (subject.length === 0 || subject.length > 1024 || /\s/.test(subject)) return false
  const tokens = subject.split('.')
  return tokens.every((t, i) => {
    if (t === '>') return i === tokens.length - 1
    return t === '*' || (t !== '' && !/[*>]/.test(t))
  })
}

/** `region=eu,tier=edge` -> `{region: 'eu', tier: 'edge'}`; throws on a malformed pair or a reserved `hostcore.` key. */
export function parseLabels (text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const raw of text.split(',')) {
    const pair = raw.trim()
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const key = pair.slice(0, eq).trim()
    if (eq <= 0 || !/^[A-Za-z0-9_.-]{1,128}$/.test(key)) throw new Error(`label "${pair.slice(0, 60)}" must be key=value (key: A-Z a-z 0-9 _ . -)`)
    if (key.startsWith('hostcore.')) throw new Error(`label "${key}": hostcore.* labels are set by the host itself`)
    out[key] = pair.slice(eq + 1).trim()
  }
  return out
}
