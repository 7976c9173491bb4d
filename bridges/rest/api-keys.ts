import { Type } from '@sinclair/typebox'
import { ColonyError, type AuthService } from '../../src/index.js'
import { apiKeyView } from './views.js'
import { identity } from './authn.js'
import type { Routes } from './route.js'
import { ApiKey, NewApiKey } from './schemas.js'

export const name = 'API keys'

export interface ApiKeysDeps {
  auth: AuthService
}

/** API keys of the caller's team: the plaintext key appears once, in the 201 of its creation. */
export function register (routes: Routes, { auth }: ApiKeysDeps): void {
  routes.route({
    method: 'POST',
    path: '/v1/api-keys',
    summary: 'Creates an API key for the caller\'s active team; the answer is the only time the key is shown',
    body: Type.Object({ name: Type.Optional(Type.Union([Type.String({ maxLength: 128 }), Type.Null()])) }),
    bodyKind: 'optional-json',
    status: 201,
    responses: { 201: { description: 'The key, with its plaintext `key`', schema: NewApiKey } },
    errors: ['forbidden', 'team_not_found'],
    handle (ctx, { body }) {
      const name = (body.name ?? 'Unnamed API Key').trim()
      if (name === '') throw new ColonyError('invalid_body', 'name must not be blank', { details: { field: 'name' } })
      const { record, key } = auth.createApiKey(identity(ctx), name)
      return { ...apiKeyView(record), key }
    },
  })

  routes.route({
    method: 'GET',
    path: '/v1/api-keys',
    summary: 'The API keys of the caller\'s active team (without their plaintext)',
    responses: { 200: { description: 'The keys', schema: Type.Array(ApiKey) } },
    errors: ['forbidden', 'team_not_found'],
    handle: (ctx) => auth.listApiKeys(identity(ctx)).map(apiKeyView),
  })

  routes.route({
    method: 'DELETE',
    path: '/v1/api-keys/{id}',
    summary: 'Revokes an API key of the caller\'s active team',
    params: Type.Object({ id: Type.String() }),
    status: 204,
    responses: { 204: { description: 'Revoked' } },
    errors: ['api_key_not_found', 'forbidden', 'team_not_found'],
    handle (ctx, { params }) {
      auth.deleteApiKey(identity(ctx), params.id)
    },
  })
}
