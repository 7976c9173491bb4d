import { ColonyError } from '../errors.js'
import { parsePath, PathError, type PathPattern } from './paths.js'
import { callsFunction, requestReads } from './rib-eval.js'
import { lineColumn, parseRib, RibError, type Script } from './rib-parse.js'
import { METHODS, type ApiRoute, type Binding, type DefinitionRef, type GolemMethod, type RouteInput } from './types.js'

/** A route ready to serve: its path parsed, its scripts parsed, what it reads known. */
export interface CompiledRoute {
  definition: DefinitionRef
  index: number
  /** Upper case, as HTTP writes it. */
  method: string
  path: PathPattern
  componentId: string
  componentVersion: number | undefined
  workerName: Script | undefined
  idempotencyKey: Script | undefined
  response: Script
  /** Whether any script reads request.body (only then is the body read). */
  readsBody: boolean
  declaredQuery: ReadonlySet<string>
}

const BY_UPPER = new Map<string, GolemMethod>(METHODS.map((m) => [m.toUpperCase(), m]))

/** Golem's `Get` (any case accepted), or undefined. */
export function golemMethod (method: string): GolemMethod | undefined {
  return BY_UPPER.get(method.toUpperCase())
}

/** The stored form of a route: method spelled as Golem does, binding with its defaults filled in. */
export function normalizeRoute (r: RouteInput): ApiRoute {
  const b = r.binding
  const componentId = typeof b.componentId === 'string' ? { componentId: b.componentId } : { ...b.componentId }
  const binding: Binding = {
    bindingType: 'default',
    componentId,
    ...(b.workerName !== undefined && { workerName: b.workerName }),
    ...(b.idempotencyKey !== undefined && { idempotencyKey: b.idempotencyKey }),
    response: b.response,
  }
  return { method: golemMethod(r.method) ?? r.method as GolemMethod, path: r.path, binding }
}

/**
 * Parses every route of a definition: a bad method, path or script is 400 `invalid_binding` naming the route, the
 * field and the line and column; two routes with the same method and path shape are 409 `api_route_conflict`.
 */
export function compileRoutes (definition: DefinitionRef, routes: RouteInput[]): CompiledRoute[] {
  const compiled = routes.map((r, index) => compileRoute(definition, r, index))
  conflicts(compiled)
  return compiled
}

function compileRoute (definition: DefinitionRef, r: RouteInput, index: number): CompiledRoute {
  const where = `route ${index} (${r.method} ${r.path})`
  const bad = (field: string, message: string, position?: { line: number, column: number }): ColonyError =>
    new ColonyError('invalid_binding', `${where} ${field}: ${message}${position === undefined ? '' : ` at line ${position.line}, column ${position.column}`}`,
      { details: { route: index, field, ...position } })
  const method = golemMethod(r.method)
  if (method === undefined) throw bad('method', `"${r.method}" is not one of ${METHODS.join(', ')}`)
  let path: PathPattern
  try {
    path = parsePath(r.path)
  } catch (err) {
    if (err instanceof PathError) throw bad('path', err.message, { line: 1, column: err.column })
    throw err
  }
  const b = r.binding
  if (b.bindingType !== undefined && b.bindingType !== 'default') throw bad('binding.bindingType', `"${b.bindingType}" is not supported; only "default"`)
  const componentId = typeof b.componentId === 'string' ? b.componentId : b.componentId.componentId
  const componentVersion = typeof b.componentId === 'string' ? undefined : b.componentId.version
  const declaredQuery = new Set(path.query)
  const pathVars = new Set(path.segments.flatMap((s) => s.kind === 'literal' ? [] : [s.name]))
  const script = (field: string, source: string | undefined, mayCall: boolean): Script | undefined => {
    if (source === undefined) return undefined
    let parsed: Script
    try {
      parsed = parseRib(source)
    } catch (err) {
      if (err instanceof RibError) throw bad(`binding.${field}`, err.message, lineColumn(source, err.offset))
      throw err
    }
    if (!mayCall && callsFunction(parsed)) throw bad(`binding.${field}`, 'calls a worker function; only the response script may')
    for (const read of requestReads(parsed)) {
      const name = read.name as string
      if (read.part === 'path' && !pathVars.has(name) && !declaredQuery.has(name)) {
        throw bad(`binding.${field}`, `request.path.${name}: the path declares no {${name}}`, lineColumn(source, read.at))
      }
      if (read.part === 'query' && !declaredQuery.has(name)) {
        throw bad(`binding.${field}`, `request.query.${name}: the path declares no query variable {${name}} (write it as ?{${name}})`, lineColumn(source, read.at))
      }
    }
    return parsed
  }
  const workerName = script('workerName', b.workerName, false)
  const idempotencyKey = script('idempotencyKey', b.idempotencyKey, false)
  const response = script('response', b.response, true) as Script
  const readsBody = [workerName, idempotencyKey, response].some((s) => s !== undefined && requestReads(s).some((read) => read.part === 'body'))
  return {
    definition, index, method: method.toUpperCase(), path, componentId, componentVersion, workerName, idempotencyKey, response, readsBody, declaredQuery,
  }
}

/** Throws `api_route_conflict` when two routes answer the same method and path shape. */
export function conflicts (routes: readonly CompiledRoute[]): void {
  const seen = new Map<string, CompiledRoute>()
  for (const r of routes) {
    const key = `${r.method} ${r.path.shape}`
    const other = seen.get(key)
    if (other !== undefined) {
      const name = (x: CompiledRoute): string => `${x.definition.id}@${x.definition.version} route ${x.index} (${x.method} ${x.path.source})`
      throw new ColonyError('api_route_conflict', `${name(r)} and ${name(other)} answer the same requests`, {
        details: { routes: [{ ...other.definition, route: other.index }, { ...r.definition, route: r.index }] },
      })
    }
    seen.set(key, r)
  }
}
