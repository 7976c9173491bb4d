/**
 * How deeply JSON text nests, read from the text itself. JSON.parse takes a list nested 100 000 deep, but every
 * recursive walk after it (JSON.stringify, a converter, a logger) overflows the stack on it; the doors refuse
 * such payloads before anything walks them.
 */

/** Far deeper than any payload Colony takes (a component's parameters included), shallow enough for any walk. */
export const MAX_JSON_DEPTH = 256

/** True when arrays and objects in `text` (JSON) nest more than `limit` levels; strings are skipped. */
export function jsonNestsDeeperThan (text: string, limit = MAX_JSON_DEPTH): boolean {
  // Nesting past `limit` needs more than `limit` brackets: short texts need no scan.
  if (text.length <= limit) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) {
      inString = true
    } else if (c === OPEN_LIST || c === OPEN_OBJECT) {
      if (++depth > limit) return true
    } else if (c === CLOSE_LIST || c === CLOSE_OBJECT) {
      depth--
    }
  }
  return false
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_LIST = 0x5b
const CLOSE_LIST = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
