import type { NatsContext } from './deps.js'

/**
 * Providers started over NATS (`provider.start`) are acknowledged state: kept in the store's started_providers
 * table (like component scales) and started again when the bridge starts, before the saved component scales are
 * restored, so links to them resolve. `provider.stop` or deleting the actor forgets one.
 */
export interface SavedProvider { id: string, ref: string, annotations: Record<string, string> }

export function rememberProvider (ctx: NatsContext, p: SavedProvider): void {
  ctx.services.store.startedProviders.put({ id: p.id, ref: p.ref, annotations: JSON.stringify(p.annotations), origin: 'nats', startedAtMs: ctx.clock.now() })
}

export function forgetProvider (ctx: NatsContext, id: string): void {
  ctx.services.store.startedProviders.remove(id)
}

export function savedProviders (ctx: NatsContext): SavedProvider[] {
  const out: SavedProvider[] = []
  for (const row of ctx.services.store.startedProviders.all()) {
    try {
      const annotations = JSON.parse(row.annotations) as unknown
      if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations)) throw new Error('annotations are not an object')
      out.push({ id: row.id, ref: row.ref, annotations: annotations as Record<string, string> })
    } catch (err) {
      ctx.log.warn({ err, provider: row.id }, 'a saved provider could not be read; forgotten')
      forgetProvider(ctx, row.id)
    }
  }
  return out
}
