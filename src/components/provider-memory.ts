import type { Clock } from '../clock.js'
import type { Logger } from '../log.js'
import type { Store } from '../store/index.js'

/** How a provider was started: the reference and annotations the lattice shows for it. */
export interface ProviderDescription { ref: string, annotations: Record<string, string> }

/** A provider started at run time, as remembered: `startProviders` brings it back at the next start. */
export interface SavedProvider extends ProviderDescription {
  /** The provider actor's id and name (what links target). */
  id: string
  /** The team whose actor it is; null: the host's own. */
  team: string | null
  /** Who started it: `nats`, `rest`. */
  origin: string
}

/**
 * Providers started at run time (NATS `provider.start`, REST), kept in the store's started_providers table like
 * component scales, and how each running one was started (for the lattice's inventory and events). Ids with a row
 * are kept in memory: every actor removal asks `forget`, and only started providers' removals should cost a write.
 */
export class ProviderMemory {
  private readonly ids: Set<string>
  private readonly described = new Map<string, ProviderDescription>()

  constructor (private readonly store: Pick<Store, 'startedProviders'>, private readonly clock: Clock, private readonly log: Logger) {
    this.ids = new Set(store.startedProviders.all().map((r) => r.id))
  }

  /** How the provider actor `id` was started, while it runs; undefined for a built-in one. */
  describe (id: string): ProviderDescription | undefined {
    return this.described.get(id)
  }

  /** Told before its actor starts, so that its first status already reads as this reference. */
  starting (id: string, description: ProviderDescription): void {
    this.described.set(id, description)
  }

  /** Its actor did not start: it is described no more (a saved row stays, for the next start to try again). */
  notStarted (id: string): void {
    this.described.delete(id)
  }

  /** Written once its actor runs; a second start of the same id replaces the row in place. */
  remember (p: SavedProvider): void {
    this.store.startedProviders.put({
      id: p.id, ref: p.ref, annotations: JSON.stringify(p.annotations), origin: p.origin, teamId: p.team, startedAtMs: this.clock.now(),
    })
    this.ids.add(p.id)
  }

  /** Stopped or deleted by any door: not described, not started again. */
  forget (id: string): void {
    this.described.delete(id)
    if (!this.ids.delete(id)) return
    this.store.startedProviders.remove(id)
  }

  /** Every saved provider in start order; a row that cannot be read is logged and forgotten. */
  saved (): SavedProvider[] {
    const out: SavedProvider[] = []
    for (const row of this.store.startedProviders.all()) {
      try {
        const annotations = JSON.parse(row.annotations) as unknown
        if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations)) throw new Error('annotations are not an object')
        out.push({ id: row.id, ref: row.ref, annotations: annotations as Record<string, string>, team: row.teamId, origin: row.origin })
      } catch (err) {
        this.log.warn({ err, provider: row.id }, 'a saved provider could not be read; forgotten')
        this.forget(row.id)
      }
    }
    return out
  }
}
