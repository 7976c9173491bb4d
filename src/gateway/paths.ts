/**
 * Route path patterns as Golem's API definitions write them: literal segments, `{name}` for one segment,
 * `{+rest}` for everything after (last only), and query variables declared after `?` as `{q}&{limit}`.
 */

export type Segment = { kind: 'literal', text: string } | { kind: 'var', name: string } | { kind: 'rest', name: string }

export interface PathPattern {
  /** As written. */
  source: string
  segments: Segment[]
  /** The query variables the path declares. */
  query: string[]
  /** Method-less shape for conflict checks: `/counters/{}`, `/files/{+}`. */
  shape: string
}

/** Thrown for a pattern that does not parse; `column` counts from 1. */
export class PathError extends Error {
  constructor (message: string, readonly column: number) { super(message) }
}

const NAME = /^[A-Za-z_][\w-]*$/
const LITERAL = /^[A-Za-z0-9._~!$'()*+,;=:@%-]+$/

export function parsePath (source: string): PathPattern {
  if (!source.startsWith('/')) throw new PathError('a path starts with "/"', 1)
  const q = source.indexOf('?')
  const path = q === -1 ? source : source.slice(0, q)
  const segments: Segment[] = []
  const names = new Set<string>()
  const declare = (name: string, column: number): void => {
    if (!NAME.test(name)) throw new PathError(`"${name}" is not a variable name (letters, digits, _ and -)`, column)
    if (names.has(name)) throw new PathError(`the variable "${name}" is declared twice`, column)
    names.add(name)
  }
  let column = 2
  const parts = path === '/' ? [] : path.slice(1).split('/')
  parts.forEach((part, i) => {
    if (part === '') throw new PathError('an empty path segment (two "/" in a row, or a trailing "/")', column)
    if (part.startsWith('{+') && part.endsWith('}')) {
      if (i !== parts.length - 1) throw new PathError(`{+${part.slice(2, -1)}} catches the rest of the path: it must be the last segment`, column)
      declare(part.slice(2, -1), column)
      segments.push({ kind: 'rest', name: part.slice(2, -1) })
    } else if (part.startsWith('{') && part.endsWith('}')) {
      declare(part.slice(1, -1), column)
      segments.push({ kind: 'var', name: part.slice(1, -1) })
    } else if (LITERAL.test(part) && !part.includes('{') && !part.includes('}')) {
      segments.push({ kind: 'literal', text: part })
    } else {
      throw new PathError(`"${part}" is neither a literal segment nor a whole-segment {variable}`, column)
    }
    column += part.length + 1
  })
  const query: string[] = []
  if (q !== -1) {
    column = q + 2
    for (const part of source.slice(q + 1).split('&')) {
      if (!(part.startsWith('{') && part.endsWith('}'))) throw new PathError(`a query variable is written {name}, not "${part}"`, column)
      declare(part.slice(1, -1), column)
      query.push(part.slice(1, -1))
      column += part.length + 1
    }
  }
  const shape = '/' + segments.map((s) => s.kind === 'literal' ? s.text : s.kind === 'var' ? '{}' : '{+}').join('/')
  return { source, segments, query, shape }
}

/**
 * Matches a request path (without its query) and returns the path variables, decoded; undefined when it does not
 * match (a segment that does not decode matches nothing).
 */
export function matchPath (pattern: PathPattern, parts: readonly string[]): Record<string, string> | undefined {
  const { segments } = pattern
  const last = segments[segments.length - 1]
  const rest = last?.kind === 'rest'
  if (rest ? parts.length < segments.length - 1 : parts.length !== segments.length) return undefined
  const vars: Record<string, string> = {}
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i] as Segment
    if (s.kind === 'rest') {
      vars[s.name] = parts.slice(i).join('/')
      break
    }
    const part = parts[i] as string
    if (s.kind === 'literal') {
      if (part !== s.text) return undefined
    } else {
      vars[s.name] = part
    }
  }
  return vars
}

/** Splits a raw request path into decoded segments; undefined for one that does not decode. */
export function splitPath (rawPath: string): string[] | undefined {
  if (rawPath === '/' || rawPath === '') return []
  const parts = rawPath.slice(1).split('/')
  try {
    for (let i = 0; i < parts.length; i++) parts[i] = decodeURIComponent(parts[i] as string)
  } catch {
    return undefined
  }
  return parts
}

const RANK = { literal: 0, var: 1, rest: 2 } as const

/** Orders patterns so the most specific comes first: a literal beats a variable, a variable beats a catch-all. */
export function bySpecificity (a: PathPattern, b: PathPattern): number {
  const n = Math.min(a.segments.length, b.segments.length)
  for (let i = 0; i < n; i++) {
    const d = RANK[(a.segments[i] as Segment).kind] - RANK[(b.segments[i] as Segment).kind]
    if (d !== 0) return d
  }
  return b.segments.length - a.segments.length
}
