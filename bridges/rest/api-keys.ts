import type { Router } from '@koa/router'
import { ColonyError, type AuthService } from '../../src/index.js'
import { apiKeyView } from './views.js'
import { optionalString, readOptionalObject } from './body.js'
import { identity } from './authn.js'

/** API keys of the caller's team: the plaintext key appears once, in the 201 of its creation. */
export function apiKeyRoutes (router: Router, auth: AuthService, bodyLimit: number): void {
  router.post('/v1/api-keys', async (ctx) => {
    const body = await readOptionalObject(ctx, bodyLimit)
    const name = (optionalString(body, 'name', 128) ?? 'Unnamed API Key').trim()
    if (name === '') throw new ColonyError('invalid_body', 'name must not be blank', { details: { field: 'name' } })
    const { record, key } = auth.createApiKey(identity(ctx), name)
    ctx.status = 201
    ctx.body = { ...apiKeyView(record), key }
  })

  router.get('/v1/api-keys', (ctx) => {
    ctx.body = auth.listApiKeys(identity(ctx)).map(apiKeyView)
  })

  router.delete('/v1/api-keys/:id', (ctx) => {
    auth.deleteApiKey(identity(ctx), ctx.params.id as string)
    ctx.status = 204
  })
}
