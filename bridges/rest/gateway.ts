import { Type } from '@sinclair/typebox'
import type { AuthService } from '../../src/index.js'
import { METHODS, type Gateway } from '../../src/gateway.js'
import { identity } from './authn.js'
import type { Routes } from './route.js'
import { Success } from './schemas.js'

export const name = 'ApiDefinition'

export interface GatewayDeps {
  gateway: Gateway
  auth: AuthService
}

const NAME_RULE = { minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._+-]*$' }
const DefinitionId = Type.String({ ...NAME_RULE, description: 'the API definition id: 1 to 128 of A-Z a-z 0-9 . _ + - (a letter or digit first)' })
const Version = Type.String({ ...NAME_RULE, description: 'the version, e.g. 0.1.0 (same characters as the id)' })
const Rib = (description: string) => Type.String({ maxLength: 16_384, description })

const BindingSchema = Type.Object({
  bindingType: Type.Optional(Type.String({ maxLength: 32, description: '"default", the only binding type' })),
  componentId: Type.Union([
    Type.Object({ componentId: Type.String({ minLength: 1, maxLength: 128 }), version: Type.Optional(Type.Integer({ minimum: 0 })) }),
    Type.String({ minLength: 1, maxLength: 128 }),
  ], { description: 'the component to call: {componentId, version?} as Golem writes it, or the id alone' }),
  workerName: Type.Optional(Rib('Rib: the worker\'s name, e.g. "counter-${request.path.name}" (no function calls); left out: an ephemeral worker')),
  idempotencyKey: Type.Optional(Rib('Rib: the idempotency key of the call, e.g. request.headers.idempotency-key')),
  response: Rib('Rib: calls the worker and makes the answer, e.g. let n = api.{get}(); {status: 200, body: n}'),
})

const RouteSchema = Type.Object({
  method: Type.String({ maxLength: 16, description: `${METHODS.join(', ')} (any case)` }),
  path: Type.String({ minLength: 1, maxLength: 1024, description: 'e.g. /counters/{name}, /files/{+rest}, /search?{q}&{limit}' }),
  binding: BindingSchema,
})

const Routes = Type.Array(RouteSchema, { maxItems: 256 })

const ApiDefinition = Type.Object({
  id: Type.String(),
  version: Type.String(),
  draft: Type.Boolean(),
  routes: Type.Array(Type.Object({ method: Type.String(), path: Type.String(), binding: Type.Object({}, { additionalProperties: true }) })),
  createdAt: Type.String({ format: 'date-time' }),
})

const SiteSchema = Type.Object({
  host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$', description: 'a host name, optionally with a port (ignored when matching)' }),
  subdomain: Type.Optional(Type.String({ maxLength: 63, pattern: '^([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)?$' })),
})

const Ref = Type.Object({ id: DefinitionId, version: Version })

const ApiDeployment = Type.Object({
  apiDefinitions: Type.Array(Type.Object({ id: Type.String(), version: Type.String() })),
  site: Type.Object({ host: Type.String(), subdomain: Type.Optional(Type.String()) }),
  createdAt: Type.String({ format: 'date-time' }),
})

const DefinitionRef = Type.Object({ id: DefinitionId, version: Version })
const DEFINITION_ERRORS = ['invalid_binding', 'api_route_conflict', 'team_not_found', 'forbidden'] as const

/**
 * Golem's ApiDefinition API (the Worker Gateway): HTTP API definitions, versioned and draft until published, and
 * their deployments to sites this server answers for (the serving is gateway-serve.ts). Everything belongs to the
 * caller's active team; another team's definitions and sites are 404.
 */
export function register (routes: Routes, { gateway, auth }: GatewayDeps): void {
  routes.route({
    method: 'GET',
    path: '/v1/api/definitions',
    summary: 'The team\'s HTTP API definitions, every version (or those of one id)',
    query: Type.Object({ 'api-definition-id': Type.Optional(DefinitionId) }),
    responses: { 200: { description: 'API definitions', schema: Type.Array(ApiDefinition) } },
    errors: [],
    handle: (ctx, { query }) => gateway.listDefinitions(identity(ctx).teamId, query['api-definition-id']),
  })

  routes.route({
    method: 'POST',
    path: '/v1/api/definitions',
    summary: 'Creates an HTTP API definition version (a draft unless "draft": false); its paths and Rib scripts are checked now',
    body: Type.Object({ id: DefinitionId, version: Version, draft: Type.Optional(Type.Boolean()), routes: Routes }),
    responses: { 200: { description: 'The definition', schema: ApiDefinition } },
    errors: [...DEFINITION_ERRORS, 'api_definition_exists'],
    handle: (ctx, { body }) => gateway.createDefinition(auth.activeTeam(identity(ctx)), body),
  })

  routes.route({
    method: 'GET',
    path: '/v1/api/definitions/{id}/{version}',
    summary: 'One HTTP API definition version',
    params: DefinitionRef,
    responses: { 200: { description: 'The definition', schema: ApiDefinition } },
    errors: ['api_definition_not_found'],
    handle: (ctx, { params }) => gateway.getDefinition(identity(ctx).teamId, params.id, params.version),
  })

  routes.route({
    method: 'PUT',
    path: '/v1/api/definitions/{id}/{version}',
    summary: 'Replaces the routes of a definition version, or publishes it ("draft": false); a deployed version cannot change',
    params: DefinitionRef,
    body: Type.Object({ id: Type.Optional(DefinitionId), version: Type.Optional(Version), draft: Type.Optional(Type.Boolean()), routes: Routes }),
    responses: { 200: { description: 'The definition', schema: ApiDefinition } },
    errors: [...DEFINITION_ERRORS, 'api_definition_not_found', 'api_definition_deployed'],
    handle: (ctx, { params, body }) => gateway.updateDefinition(auth.activeTeam(identity(ctx)), params.id, params.version, body),
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/api/definitions/{id}/{version}',
    summary: 'Deletes a definition version that no site serves',
    params: DefinitionRef,
    responses: { 200: { description: 'Deleted', schema: Success } },
    errors: ['api_definition_not_found', 'api_definition_deployed', 'team_not_found', 'forbidden'],
    handle (ctx, { params }) {
      gateway.deleteDefinition(auth.activeTeam(identity(ctx)), params.id, params.version)
      return { success: true }
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/api/deployments',
    summary: 'The team\'s deployed sites (or those serving one definition id)',
    query: Type.Object({ 'api-definition-id': Type.Optional(DefinitionId) }),
    responses: { 200: { description: 'Deployments', schema: Type.Array(ApiDeployment) } },
    errors: [],
    handle: (ctx, { query }) => gateway.listDeployments(identity(ctx).teamId, query['api-definition-id']),
  })

  routes.route({
    method: 'POST',
    path: '/v1/api/deployments',
    summary: 'Deploys published definition versions to a site: {apiDefinitions: [{id, version}], site: {host, subdomain?}} (or {apiDefinitionId, version, site})',
    body: Type.Object({
      apiDefinitions: Type.Optional(Type.Array(Ref, { minItems: 1, maxItems: 64 })),
      apiDefinitionId: Type.Optional(DefinitionId),
      version: Type.Optional(Version),
      site: SiteSchema,
    }),
    responses: { 200: { description: 'The site and what it serves', schema: ApiDeployment } },
    errors: ['api_definition_not_found', 'api_definition_draft', 'api_route_conflict', 'api_site_taken', 'invalid_binding', 'team_not_found', 'forbidden'],
    handle: (ctx, { body }) => gateway.deploy(auth.activeTeam(identity(ctx)), body),
  })

  routes.route({
    method: 'GET',
    path: '/v1/api/deployments/{site}',
    summary: 'One deployed site (`subdomain.host` or `host`)',
    params: Type.Object({ site: Type.String({ maxLength: 320 }) }),
    responses: { 200: { description: 'The deployment', schema: ApiDeployment } },
    errors: ['api_deployment_not_found'],
    handle: (ctx, { params }) => gateway.getDeployment(identity(ctx).teamId, params.site),
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/api/deployments/{site}',
    summary: 'Stops serving a site',
    params: Type.Object({ site: Type.String({ maxLength: 320 }) }),
    responses: { 200: { description: 'Deleted', schema: Success } },
    errors: ['api_deployment_not_found', 'team_not_found', 'forbidden'],
    handle (ctx, { params }) {
      gateway.undeploy(auth.activeTeam(identity(ctx)), params.site)
      return { success: true }
    },
  })
}
