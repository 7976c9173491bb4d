import type { Router } from '@koa/router'
import type { Context, Middleware, Next } from 'koa'
import { readJson, readOptionalObject } from './body.js'
import { compileCheck, type Check } from './validate.js'
import type { AnyRoute, ApiFamily, Routes } from './route.js'
import { toolOf, type Tool } from './tool-schema.js'

/** A declared route, the family that declared it, and its path as the authenticator matches it. */
interface Declared {
  route: AnyRoute
  family: string
  pattern: RegExp
}

/**
 * Every route the REST bridge serves, declared by the API families (`register(routes, deps)`), and the things made
 * from the declarations: the Koa routes with compiled validation, the public-route test the authenticator asks
 * before any routing, the OpenAPI document (openapi.ts) and the LLM tool definitions (tools.ts).
 */
export class RouteTable implements Routes {
  readonly #routes: Declared[] = []
  /** The public ones apart, by method (HEAD under GET): the authenticator asks on every request. */
  readonly #public = new Map<string, RegExp[]>()
  /** The routes offered as LLM tools, by tool name (made when declared, so a clash stops the start). */
  readonly #tools = new Map<string, Tool>()
  #family = ''

  /** Lets `family` declare its routes. */
  register<D> (family: ApiFamily<D>, deps: D): void {
    this.#family = family.name
    try {
      family.register(this, deps)
    } finally {
      this.#family = ''
    }
  }

  route: Routes['route'] = (def) => {
    const route = def as unknown as AnyRoute
    if (this.#family === '') throw new Error(`route ${route.method} ${route.path} is declared outside a family's register`)
    if (this.#routes.some((d) => d.route.method === route.method && d.route.path === route.path)) {
      throw new Error(`route ${route.method} ${route.path} is declared twice`)
    }
    if (route.tool !== undefined) {
      const tool = toolOf(route)
      const other = this.#tools.get(tool.name)
      if (other !== undefined) throw new Error(`tool ${tool.name} of ${route.method} ${route.path} is already ${other.method} ${other.path}'s`)
      this.#tools.set(tool.name, tool)
    }
    const declared = { route, family: this.#family, pattern: pathPattern(route.path) }
    this.#routes.push(declared)
    if (route.public === true) {
      const patterns = this.#public.get(route.method) ?? []
      patterns.push(declared.pattern)
      this.#public.set(route.method, patterns)
    }
  }

  /** Every declared route with its family, in declaration order. */
  get all (): ReadonlyArray<{ route: AnyRoute, family: string }> {
    return this.#routes
  }

  /** The routes declared as tools, by name, in declaration order. */
  get tools (): ReadonlyMap<string, Tool> {
    return this.#tools
  }

  /** Whether `method path` is a public route (HEAD counts as GET, as the router treats it). */
  isPublic (method: string, path: string): boolean {
    const patterns = this.#public.get(method === 'HEAD' ? 'GET' : method)
    if (patterns === undefined) return false
    for (const pattern of patterns) if (pattern.test(path)) return true
    return false
  }

  /**
   * Adds every route to `router`, each behind its compiled checks, and returns the middleware to serve them with:
   * the router's own, except that a request naming a parameterless route's exact path goes straight to its handler.
   * The router tests every route's regex on every request (the largest cost of a cached `GET /api/actors`); a Map
   * lookup finds the same route when the router would have chosen it, which is checked here, once, with the router.
   */
  mount (router: Router, bodyLimit: number): Middleware {
    const exact = new Map<string, Map<string, (ctx: Context) => unknown>>()
    for (const { route } of this.#routes) {
      const handler = handlerOf(route, bodyLimit)
      router.register(koaPath(route.path), [route.method], handler)
      if (!route.path.includes('{')) {
        const byPath = exact.get(route.method) ?? new Map<string, (ctx: Context) => unknown>()
        byPath.set(route.path, handler)
        exact.set(route.method, byPath)
      }
    }
    // The router serves HEAD with the GET route, and a path with the first declared route that matches it.
    for (const [method, byPath] of exact) {
      for (const path of [...byPath.keys()]) {
        const first = router.match(path, method).pathAndMethod.find((layer) => layer.methods.length > 0)
        if (first?.path !== path) byPath.delete(path)
      }
    }
    const routed = router.routes() as unknown as (ctx: Context, next: Next) => unknown
    const head = exact.get('GET')
    return function dispatch (ctx: Context, next: Next): unknown {
      const handler = (ctx.method === 'HEAD' ? head : exact.get(ctx.method))?.get(ctx.path)
      if (handler === undefined) return routed(ctx, next)
      // What the router gives a route without parameters.
      const params: Record<string, string> = {}
      ctx.params = params;
      (ctx.request as { params?: Record<string, string> }).params = params
      return handler(ctx)
    }
  }
}

function handlerOf (route: AnyRoute, bodyLimit: number): (ctx: Context) => unknown {
  const checkParams = optionalCheck(route.params, 'params', route.invalid?.params ?? 'invalid_params')
  const checkQuery = optionalCheck(route.query, 'query', route.invalid?.query ?? 'invalid_query')
  const checkBody = route.bodyKind === 'multipart' ? undefined : optionalCheck(route.body, 'body', route.invalid?.body ?? 'invalid_body')
  const status = route.status ?? 200
  const answer = (ctx: Context, result: unknown): void => {
    if (result !== undefined) {
      ctx.status = status
      ctx.body = result
    } else if (status === 204) ctx.status = 204
  }
  // Most requests carry no query: when an empty one passes the schema, they skip parsing and checking it.
  const emptyQueryPasses = passes(checkQuery, {})
  const inputOf = (ctx: Context, body: unknown): Parameters<AnyRoute['handle']>[1] => {
    const params = ctx.params as Record<string, string>
    checkParams?.(params)
    let query: Record<string, unknown> = EMPTY
    if (route.query !== undefined && (ctx.querystring !== '' || !emptyQueryPasses)) {
      query = ctx.query
      checkQuery?.(query)
    }
    return { params, query, body }
  }
  if (route.body === undefined || route.bodyKind === 'multipart') {
    // No body to await: the hot read routes stay synchronous unless their handler is not.
    return (ctx) => {
      const result = route.handle(ctx, inputOf(ctx, undefined))
      if (result instanceof Promise) return result.then((r) => { answer(ctx, r) })
      answer(ctx, result)
      return undefined
    }
  }
  const read = route.bodyKind === 'optional-json' ? readOptionalObject : readJson
  return async (ctx) => {
    // Path and query first: a request that names nothing real is refused before its body is read.
    const partial = inputOf(ctx, undefined)
    const body = await read(ctx, bodyLimit)
    checkBody?.(body)
    answer(ctx, await route.handle(ctx, { ...partial, body }))
  }
}

const EMPTY: Record<string, unknown> = Object.freeze({})

function passes (check: Check | undefined, value: unknown): boolean {
  try {
    check?.(value)
    return true
  } catch {
    return false
  }
}

function optionalCheck (schema: AnyRoute['params'] | AnyRoute['body'], part: 'params' | 'query' | 'body', code: AnyRoute['errors'][number]): Check | undefined {
  return schema === undefined ? undefined : compileCheck(schema, part, code)
}

/** `/v1/teams/{id}` -> `/v1/teams/:id`. */
export function koaPath (path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1')
}

/** `/v1/teams/{id}` -> a regex matching one path segment per parameter. */
function pathPattern (path: string): RegExp {
  const source = path.split(/\{\w+\}/).map((s) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[^/]+')
  return new RegExp(`^${source}$`)
}
