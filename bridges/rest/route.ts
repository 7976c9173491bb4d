import type { Context } from 'koa'
import type { Static, TObject, TSchema } from '@sinclair/typebox'
import type { ErrorCode } from '../../src/index.js'

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** One answer a route may give: its media type and, for JSON, its schema (documented, and checked by the fuzz test). */
export interface Reply {
  description: string
  /** Default `application/json`. */
  type?: string
  schema?: TSchema
}

/** Where the request body comes from: a JSON document (read and size-limited by body.ts), or a multipart upload the handler reads. */
export type BodyKind = 'json' | 'optional-json' | 'multipart'

type Shape<S> = S extends TSchema ? Static<S> : Record<string, never>

/** What a handler is given: path parameters, query and body, each already checked against its schema. */
export interface Input<P, Q, B> {
  params: Shape<P>
  query: Shape<Q>
  body: Shape<B>
}

/**
 * One route, declared once: everything the router, the authenticator, the validator and the OpenAPI document need.
 * `path` is written as OpenAPI writes it (`/v1/teams/{id}`).
 *
 * A handler returns the response body (sent with `status`), or `undefined` after answering through `ctx` itself
 * (a redirect, a 304, bytes with their own type).
 */
export interface RouteDef<P extends TObject | undefined = undefined, Q extends TObject | undefined = undefined, B extends TSchema | undefined = undefined> {
  method: Method
  path: string
  summary: string
  /** Anyone may call it: no credentials are read (see authn.ts). */
  public?: boolean
  params?: P
  query?: Q
  body?: B
  /** Default `json` when `body` is given. */
  bodyKind?: BodyKind
  /** Success status; default 200. */
  status?: number
  responses: Record<number, Reply>
  /** The codes this route may answer with, beyond the ones every route of its kind shares (see `sharedErrors`). */
  errors: readonly ErrorCode[]
  /** A schema mismatch's code per part; default invalid_params / invalid_query / invalid_body. */
  invalid?: Partial<Record<'params' | 'query' | 'body', ErrorCode>>
  /**
   * Offered to LLM agents as a tool (`GET /api/v1/tools`, see tool-schema.ts): its path parameters, query and JSON
   * body become one argument object. The name defaults to one made from the method and path, the description to
   * `summary`.
   */
  tool?: true | ToolOptions
  handle: (ctx: Context, input: Input<P, Q, B>) => unknown
}

export interface ToolOptions {
  /** 1 to 64 of `a-z A-Z 0-9 _ -`, unique among the tools. */
  name?: string
  description?: string
}

/** A route as the table keeps it, its part types forgotten. */
export type AnyRoute = RouteDef<TObject | undefined, TObject | undefined, TSchema | undefined>

/** What a family's `register` is given to declare its routes on: fastify's `register(instance, opts)` is the model. */
export interface Routes {
  route: <P extends TObject | undefined = undefined, Q extends TObject | undefined = undefined, B extends TSchema | undefined = undefined>(def: RouteDef<P, Q, B>) => void
}

/** An API family: one module exporting its name (the OpenAPI tag) and one `register(routes, deps)`. */
export interface ApiFamily<D> {
  readonly name: string
  register: (routes: Routes, deps: D) => void
}

/** Codes every route of a kind may answer with, whatever its handler does. */
export function sharedErrors (route: Pick<AnyRoute, 'public' | 'body' | 'bodyKind' | 'params' | 'query' | 'invalid'>): ErrorCode[] {
  const codes: ErrorCode[] = []
  if (route.public !== true) codes.push('unauthorized')
  if (route.params !== undefined) codes.push(route.invalid?.params ?? 'invalid_params')
  if (route.query !== undefined) codes.push(route.invalid?.query ?? 'invalid_query')
  if (route.body !== undefined) {
    codes.push('body_too_large')
    if (route.bodyKind === 'multipart') codes.push('invalid_body')
    else codes.push(route.invalid?.body ?? 'invalid_body', 'invalid_json', 'unsupported_media_type')
  }
  return codes
}
