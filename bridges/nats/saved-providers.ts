import type { BridgeContext } from '../../src/index.js'

/**
 * Providers started over NATS (`provider.start`) are acknowledged state: kept in the keyvalue store (a scope no
 * component can have: components' scopes are their ids) and started again when the bridge starts, before the
 * saved component scales are restored, so links to them resolve. `provider.stop` or deleting the actor forgets one.
 */
const SCOPE = '$colony'
const BUCKET = 'nats-providers'

export interface SavedProvider { id: string, ref: string, annotations: Record<string, string> }

export function rememberProvider (ctx: BridgeContext, p: SavedProvider): void {
  ctx.services.store.kv.set(SCOPE, BUCKET, p.id, Buffer.from(JSON.stringify({ ref: p.ref, annotations: p.annotations })))
}

export function forgetProvider (ctx: BridgeContext, id: string): void {
  ctx.services.store.kv.remove(SCOPE, BUCKET, id)
}

export function savedProviders (ctx: BridgeContext): SavedProvider[] {
  const out: SavedProvider[] = []
  for (const id of ctx.services.store.kv.keys(SCOPE, BUCKET)) {
    const raw = ctx.services.store.kv.get(SCOPE, BUCKET, id)
    try {
      const { ref, annotations } = JSON.parse(raw?.toString('utf8') ?? '') as { ref: string, annotations: Record<string, string> }
      out.push({ id, ref, annotations })
    } catch (err) {
      ctx.log.warn({ err, provider: id }, 'a saved provider could not be read; forgotten')
      forgetProvider(ctx, id)
    }
  }
  return out
}
