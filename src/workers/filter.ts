/**
 * Golem's worker filters in their two forms: the `filter=` query strings of `GET .../workers` (`name = foo`,
 * `status == Running`, `version >= 1`, `env.REGION = eu`, `createdAt > 2024-01-01T00:00:00Z`; several are ANDed)
 * and the tagged JSON WorkerFilter of `POST .../workers/find`. Both give the same WorkerFilter, or a 400
 * `invalid_filter` naming what is wrong.
 */
import { ColonyError } from '../errors.js'
import {
  FILTER_COMPARATORS, STRING_COMPARATORS, WORKER_STATUSES,
  type FilterComparator, type StringComparator, type WorkerFilter, type WorkerStatus,
} from '../store/index.js'

/** Bounds a client's filter: SQLite's expression depth and parameter count are finite. */
export const MAX_FILTER_DEPTH = 16
export const MAX_FILTER_NODES = 200

const bad = (message: string, filter?: unknown): ColonyError =>
  new ColonyError('invalid_filter', message, filter === undefined ? undefined : { details: { filter } })

/** Every spelling Golem's parser takes for a comparator, lower-cased. */
const STRING_OPS: Record<string, StringComparator> = {
  '=': 'Equal', '==': 'Equal', eq: 'Equal', equal: 'Equal',
  '!=': 'NotEqual', '<>': 'NotEqual', ne: 'NotEqual', notequal: 'NotEqual',
  like: 'Like', notlike: 'NotLike', startswith: 'StartsWith',
}
const ORDER_OPS: Record<string, FilterComparator> = {
  '=': 'Equal', '==': 'Equal', eq: 'Equal', equal: 'Equal',
  '!=': 'NotEqual', '<>': 'NotEqual', ne: 'NotEqual', notequal: 'NotEqual',
  '>=': 'GreaterEqual', ge: 'GreaterEqual', greaterequal: 'GreaterEqual',
  '>': 'Greater', gt: 'Greater', greater: 'Greater',
  '<=': 'LessEqual', le: 'LessEqual', lessequal: 'LessEqual',
  '<': 'Less', lt: 'Less', less: 'Less',
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/

function status (value: unknown, where: string): WorkerStatus {
  const found = WORKER_STATUSES.find((s) => typeof value === 'string' && s.toLowerCase() === value.toLowerCase())
  if (found === undefined) throw bad(`${where}: status must be one of ${WORKER_STATUSES.join(', ')}, not ${JSON.stringify(value)}`)
  return found
}

function version (value: unknown, where: string): number {
  const n = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw bad(`${where}: version must be a non-negative integer, not ${JSON.stringify(value)}`)
  return n
}

function timestamp (value: unknown, where: string): string {
  if (typeof value !== 'string' || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    throw bad(`${where}: createdAt must be an ISO 8601 timestamp such as 2024-01-01T00:00:00Z, not ${JSON.stringify(value)}`)
  }
  return value
}

/** One `filter=` string: `<field> <comparator> <value>` (the value is the rest, spaces included). */
export function parseFilterString (text: string): WorkerFilter {
  const m = /^\s*(\S+)\s+(\S+)\s+(.*?)\s*$/.exec(text)
  if (m === null) throw bad(`filter "${text}" is not <field> <comparator> <value> (e.g. "status == Running")`, text)
  const [, field = '', opText = '', value = ''] = m
  const op = opText.toLowerCase()
  const stringOp = (): StringComparator => {
    const c = STRING_OPS[op]
    if (c === undefined) throw bad(`filter "${text}": ${field} takes ==, !=, like, notlike or startswith, not "${opText}"`, text)
    return c
  }
  const orderOp = (allowed: readonly FilterComparator[] = FILTER_COMPARATORS): FilterComparator => {
    const c = ORDER_OPS[op]
    if (c === undefined || !allowed.includes(c)) throw bad(`filter "${text}": ${field} does not take "${opText}"`, text)
    return c
  }
  if (/^env\./i.test(field)) {
    const name = field.slice(4)
    if (name.length === 0) throw bad(`filter "${text}": env. needs a variable name (env.NAME)`, text)
    return { type: 'Env', name, comparator: stringOp(), value }
  }
  switch (field.toLowerCase()) {
    case 'name': return { type: 'Name', comparator: stringOp(), value }
    case 'status': return { type: 'Status', comparator: orderOp(['Equal', 'NotEqual']) as 'Equal' | 'NotEqual', value: status(value, `filter "${text}"`) }
    case 'version': return { type: 'Version', comparator: orderOp(), value: version(value, `filter "${text}"`) }
    case 'createdat':
    case 'created_at': return { type: 'CreatedAt', comparator: orderOp(), value: timestamp(value, `filter "${text}"`) }
    default: throw bad(`filter "${text}": unknown field "${field}" (name, status, version, env.NAME, createdAt)`, text)
  }
}

/** The `filter` query parameter(s): each one parsed, several ANDed; none -> undefined. */
export function parseFilterStrings (texts: string | readonly string[] | undefined): WorkerFilter | undefined {
  if (texts === undefined) return undefined
  const list = typeof texts === 'string' ? [texts] : texts
  if (list.length > MAX_FILTER_NODES) throw bad(`at most ${MAX_FILTER_NODES} filters`)
  const filters = list.map(parseFilterString)
  if (filters.length === 0) return undefined
  return filters.length === 1 ? filters[0] : { type: 'And', filters }
}

/** Golem's tagged JSON WorkerFilter, checked field by field. */
export function parseFilterJson (json: unknown): WorkerFilter {
  let nodes = 0
  const walk = (f: unknown, path: string, depth: number): WorkerFilter => {
    if (++nodes > MAX_FILTER_NODES) throw bad(`the filter has more than ${MAX_FILTER_NODES} parts`)
    if (depth > MAX_FILTER_DEPTH) throw bad(`${path}: filters nest deeper than ${MAX_FILTER_DEPTH}`)
    if (typeof f !== 'object' || f === null || Array.isArray(f)) throw bad(`${path} must be an object with a "type"`)
    const o = f as Record<string, unknown>
    const stringCmp = (): StringComparator => {
      if (!STRING_COMPARATORS.includes(o.comparator as StringComparator)) {
        throw bad(`${path}.comparator must be one of ${STRING_COMPARATORS.join(', ')}, not ${JSON.stringify(o.comparator)}`)
      }
      return o.comparator as StringComparator
    }
    const orderCmp = (allowed: readonly FilterComparator[] = FILTER_COMPARATORS): FilterComparator => {
      if (!allowed.includes(o.comparator as FilterComparator)) throw bad(`${path}.comparator must be one of ${allowed.join(', ')}, not ${JSON.stringify(o.comparator)}`)
      return o.comparator as FilterComparator
    }
    const text = (key: string): string => {
      if (typeof o[key] !== 'string') throw bad(`${path}.${key} must be a string`)
      return o[key]
    }
    const list = (): WorkerFilter[] => {
      if (!Array.isArray(o.filters)) throw bad(`${path}.filters must be an array of filters`)
      return o.filters.map((x, i) => walk(x, `${path}.filters[${i}]`, depth + 1))
    }
    switch (o.type) {
      case 'Name': return { type: 'Name', comparator: stringCmp(), value: text('value') }
      case 'Status': return { type: 'Status', comparator: orderCmp(['Equal', 'NotEqual']) as 'Equal' | 'NotEqual', value: status(o.value, path) }
      case 'Version': return { type: 'Version', comparator: orderCmp(), value: version(o.value, path) }
      case 'CreatedAt': return { type: 'CreatedAt', comparator: orderCmp(), value: timestamp(o.value, path) }
      case 'Env': {
        const name = text('name')
        if (name.length === 0) throw bad(`${path}.name must not be empty`)
        return { type: 'Env', name, comparator: stringCmp(), value: text('value') }
      }
      case 'And': return { type: 'And', filters: list() }
      case 'Or': return { type: 'Or', filters: list() }
      case 'Not': return { type: 'Not', filter: walk(o.filter, `${path}.filter`, depth + 1) }
      default: throw bad(`${path}.type must be Name, Status, Version, CreatedAt, Env, And, Or or Not, not ${JSON.stringify(o.type)}`)
    }
  }
  return walk(json, 'filter', 0)
}
