/** Where chat without a mention goes, whichever door it came through. */
export const DEFAULT_CHAT_TARGET = 'main-actor'

/** `@name rest`, `@name: rest` or `@name, rest`; the rest keeps its inner whitespace. */
const MENTION = /^@([A-Za-z0-9_-]{1,64})[,:]?(?:\s+([\s\S]*))?$/

export interface ChatRoute {
  /** The actor name or id the line is for. */
  target: string
  /** What that actor gets: the text after the mention, or the whole (trimmed) line. */
  content: string
}

/**
 * The one reading of a chat line's `@mention`, shared by `io/chat` (io-agent) and `POST /api/chat`, so both doors
 * route the same text to the same actor: `@name rest` sends `rest` to `name`, anything else goes whole to main-actor.
 */
export function routeChat (line: string): ChatRoute {
  const text = line.trim()
  const mention = MENTION.exec(text)
  if (mention === null) return { target: DEFAULT_CHAT_TARGET, content: text }
  return { target: mention[1] as string, content: mention[2] ?? '' }
}
