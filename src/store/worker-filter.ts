/**
 * Golem's WorkerFilter (the tagged JSON of `POST /workers/find`, and what the `filter=` strings parse into) and
 * its translation into one SQL condition over the `workers` table. Every value goes in as a bound parameter.
 */
export type WorkerStatus = 'Running' | 'Idle' | 'Suspended' | 'Interrupted' | 'Retrying' | 'Failed' | 'Exited'
export const WORKER_STATUSES: readonly WorkerStatus[] = ['Running', 'Idle', 'Suspended', 'Interrupted', 'Retrying', 'Failed', 'Exited']

/** Golem's StringFilterComparator: Like is "contains" and StartsWith a prefix, as Golem matches them (no wildcards). */
export type StringComparator = 'Equal' | 'NotEqual' | 'Like' | 'NotLike' | 'StartsWith'
/** Golem's FilterComparator. */
export type FilterComparator = 'Equal' | 'NotEqual' | 'GreaterEqual' | 'Greater' | 'LessEqual' | 'Less'

export const STRING_COMPARATORS: readonly StringComparator[] = ['Equal', 'NotEqual', 'Like', 'NotLike', 'StartsWith']
export const FILTER_COMPARATORS: readonly FilterComparator[] = ['Equal', 'NotEqual', 'GreaterEqual', 'Greater', 'LessEqual', 'Less']

export type WorkerFilter =
  | { type: 'Name', comparator: StringComparator, value: string }
  | { type: 'Status', comparator: 'Equal' | 'NotEqual', value: WorkerStatus }
  | { type: 'Version', comparator: FilterComparator, value: number }
  /** value: an ISO 8601 timestamp, as Golem's JSON has it. */
  | { type: 'CreatedAt', comparator: FilterComparator, value: string }
  | { type: 'Env', name: string, comparator: StringComparator, value: string }
  | { type: 'And', filters: WorkerFilter[] }
  | { type: 'Or', filters: WorkerFilter[] }
  | { type: 'Not', filter: WorkerFilter }

export interface SqlCondition { sql: string, params: Array<string | number> }

const ORDER_SQL: Record<FilterComparator, string> = {
  Equal: '=', NotEqual: '!=', GreaterEqual: '>=', Greater: '>', LessEqual: '<=', Less: '<',
}

/** `column` compared as Golem compares strings; the value is bound once or twice. */
function stringCondition (column: string, comparator: StringComparator, value: string): SqlCondition {
  switch (comparator) {
    case 'Equal': return { sql: `${column} = ?`, params: [value] }
    case 'NotEqual': return { sql: `${column} != ?`, params: [value] }
    case 'Like': return { sql: `instr(${column}, ?) > 0`, params: [value] }
    case 'NotLike': return { sql: `instr(${column}, ?) = 0`, params: [value] }
    case 'StartsWith': return { sql: `substr(${column}, 1, length(?)) = ?`, params: [value, value] }
  }
}

/** The SQL condition for a filter (already validated: see src/workers/filter.ts for the parsers). */
export function filterSql (filter: WorkerFilter): SqlCondition {
  switch (filter.type) {
    case 'Name': return stringCondition('name', filter.comparator, filter.value)
    case 'Status': return { sql: `status ${ORDER_SQL[filter.comparator]} ?`, params: [filter.value] }
    case 'Version': return { sql: `component_version ${ORDER_SQL[filter.comparator]} ?`, params: [filter.value] }
    case 'CreatedAt': return { sql: `created_at ${ORDER_SQL[filter.comparator]} ?`, params: [Date.parse(filter.value)] }
    case 'Env': {
      // A worker without the variable matches no comparison (Golem looks the name up and fails when it is absent).
      const inner = stringCondition('e.value', filter.comparator, filter.value)
      return { sql: `EXISTS (SELECT 1 FROM json_each(workers.env) AS e WHERE e.key = ? AND ${inner.sql})`, params: [filter.name, ...inner.params] }
    }
    case 'And':
    case 'Or': {
      if (filter.filters.length === 0) return { sql: filter.type === 'And' ? '1' : '0', params: [] }
      const parts = filter.filters.map(filterSql)
      return { sql: `(${parts.map((p) => p.sql).join(filter.type === 'And' ? ' AND ' : ' OR ')})`, params: parts.flatMap((p) => p.params) }
    }
    case 'Not': {
      const inner = filterSql(filter.filter)
      return { sql: `NOT (${inner.sql})`, params: inner.params }
    }
  }
}
