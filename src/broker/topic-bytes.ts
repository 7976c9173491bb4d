import { isUtf8 } from 'node:buffer'

const NUL = 0
const PLUS = 0x2b
const HASH = 0x23

/**
 * Why the raw bytes of a PUBLISH topic name (`bytes[start..end)`) are not a valid MQTT topic name, or undefined when they are.
 * Checked on the wire bytes: the parser decodes invalid UTF-8 leniently (into U+FFFD), so after parsing a
 * broken name is indistinguishable from a real U+FFFD.
 */
export function topicNameProblem (bytes: Buffer, start = 0, end = bytes.length): string | undefined {
  if (end <= start) return 'a topic name must be at least one character long [MQTT-4.7.3-1]'
  let ascii = true
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number
    // Bytes below 0x80 never occur inside a multi-byte UTF-8 sequence, so these are the characters themselves.
    if (b === NUL) return 'the topic name contains U+0000 [MQTT-1.5.3-2]'
    if (b === PLUS || b === HASH) return 'the topic name of a PUBLISH contains a wildcard (+ or #) [MQTT-3.3.2-2]'
    if (b >= 0x80) ascii = false
  }
  if (!ascii && !isUtf8(bytes.subarray(start, end))) return 'the topic name is not well-formed UTF-8 [MQTT-1.5.3-1]'
  return undefined
}

/** Why the raw bytes of a SUBSCRIBE topic filter are not well-formed, or undefined (wildcard placement is Aedes' check). */
export function topicFilterProblem (bytes: Buffer): string | undefined {
  let ascii = true
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    if (b === NUL) return 'the topic filter contains U+0000 [MQTT-1.5.3-2]'
    if (b >= 0x80) ascii = false
  }
  if (!ascii && !isUtf8(bytes)) return 'the topic filter is not well-formed UTF-8 [MQTT-1.5.3-1]'
  return undefined
}
