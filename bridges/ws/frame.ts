import { isUtf8 } from 'node:buffer'
import type { Bus, BusMessage } from '../../src/index.js'

/**
 * `{topic, payload}` as one JSON text: JSON payloads are embedded as they are (no parse and re-stringify when
 * the runtime itself serialized them), other UTF-8 as a string, anything else as base64 with `encoding`.
 */
export function frameFor (bus: Bus, m: BusMessage): string {
  const topic = JSON.stringify(m.topic)
  if (m.payload.length === 0) return `{"topic":${topic},"payload":""}`
  if (bus.isJson(m.payload)) return `{"topic":${topic},"payload":${m.payload.toString('utf8')}}`
  if (!isUtf8(m.payload)) return `{"topic":${topic},"payload":"${m.payload.toString('base64')}","encoding":"base64"}`
  const text = m.payload.toString('utf8')
  try {
    JSON.parse(text)
    return `{"topic":${topic},"payload":${text}}`
  } catch {
    return `{"topic":${topic},"payload":${JSON.stringify(text)}}`
  }
}
