import { ColonyError, isValidFilter } from '../../src/index.js'

const MAX_FILTERS = 64

/**
 * The MQTT filters of `/ws?topics=a/+/b,c/%23`, read from the raw query string. URLSearchParams would turn the
 * `+` wildcard into a space (form encoding), so this parameter is percent-decoded only: `+` stays `+`, `%2B`
 * is `+` too, and `#` must be written `%23` (a literal `#` starts the URL fragment, which no client sends).
 * Several `topics=` parameters add up. No parameter means everything (`#`).
 */
export function topicFilters (url: string): string[] {
  const query = rawQuery(url)
  const values: string[] = []
  for (const pair of query === '' ? [] : query.split('&')) {
    const eq = pair.indexOf('=')
    const name = eq === -1 ? pair : pair.slice(0, eq)
    if (name !== 'topics') continue
    values.push(decode(eq === -1 ? '' : pair.slice(eq + 1)))
  }
  if (values.length === 0) return ['#']
  const filters = values.flatMap((v) => v.split(',')).map((f) => f.trim()).filter((f) => f !== '')
  if (filters.length === 0) {
    throw new ColonyError('invalid_topic_filter', 'topics is empty: list 1 to 64 MQTT topic filters, comma-separated (write # as %23)')
  }
  if (filters.length > MAX_FILTERS) throw new ColonyError('invalid_topic_filter', `topics lists ${filters.length} filters; at most ${MAX_FILTERS} are allowed`)
  const invalid = filters.find((f) => !isValidFilter(f))
  if (invalid !== undefined) {
    throw new ColonyError('invalid_topic_filter', `"${printable(invalid)}" is not a valid MQTT topic filter: # only as the whole last level, ` +
      '+ only as a whole level, no NUL character', { details: { filter: printable(invalid) } })
  }
  return filters
}

function rawQuery (url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return ''
  const hash = url.indexOf('#', q)
  return url.slice(q + 1, hash === -1 ? undefined : hash)
}

function decode (value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    throw new ColonyError('invalid_topic_filter', `topics is not valid percent-encoding: "${printable(value)}"`)
  }
}

/** At most 80 characters, control characters shown as \uXXXX, for messages and logs. */
function printable (s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.slice(0, 80).replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
