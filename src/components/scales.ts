import type { Clock } from '../clock.js'
import type { ScaleRecord, Store } from '../store/index.js'
import type { InstanceSettings } from './instance-settings.js'
import type { ScaleOrigin } from './types.js'

/** A component's remembered scale: what `restoreScales` brings back after a restart. */
export interface SavedScale { componentId: string, instances: number, settings: InstanceSettings, origin: ScaleOrigin }

/**
 * The scale each component was last given through an API (REST, chat, NATS), written before the scale is
 * acknowledged so that it survives kill -9. Ids with a saved scale are also kept in memory: every actor removal
 * asks `forget`, and only components' removals should cost a write.
 */
export class ScaleMemory {
  private readonly ids: Set<string>

  constructor (private readonly store: Pick<Store, 'components'>, private readonly clock: Clock) {
    this.ids = new Set(store.components.scales().map((s) => s.componentId))
  }

  get (componentId: string): SavedScale | undefined {
    if (!this.ids.has(componentId)) return undefined
    const row = this.store.components.scale(componentId)
    return row === undefined ? undefined : parse(row)
  }

  remember (scale: SavedScale): void {
    if (scale.instances === 0) {
      this.forget(scale.componentId)
      return
    }
    this.store.components.setScale({
      componentId: scale.componentId,
      instances: scale.instances,
      settings: JSON.stringify(scale.settings),
      origin: JSON.stringify(scale.origin),
      updatedAtMs: this.clock.now(),
    })
    this.ids.add(scale.componentId)
  }

  forget (componentId: string): void {
    if (!this.ids.delete(componentId)) return
    this.store.components.removeScale(componentId)
  }

  /** Every saved scale, oldest first. */
  all (): SavedScale[] {
    return this.store.components.scales().map(parse)
  }
}

function parse (s: ScaleRecord): SavedScale {
  return { componentId: s.componentId, instances: s.instances, settings: JSON.parse(s.settings) as InstanceSettings, origin: JSON.parse(s.origin) as ScaleOrigin }
}
