import type { Clock } from '../clock.js'
import type { SpawnedActorRecord, SpawnedState, Store } from '../store/index.js'

/** A run-time spawned actor as saved: what `restoreSpawned` brings back after a restart. */
export interface SavedActor {
  id: string
  kind: string
  name: string
  team: string | null
  options: Record<string, unknown>
  state: SpawnedState
}

/**
 * The actors users spawned at run time (REST, chat), written before the spawn is acknowledged so they survive
 * kill -9, with the state the user last asked for (pause, resume, stop). Ids with a row are also kept in memory:
 * every removal and state change asks, and only user-spawned actors should cost a write.
 */
export class SpawnMemory {
  private readonly ids: Set<string>

  constructor (private readonly store: Pick<Store, 'spawnedActors'>, private readonly clock: Clock) {
    this.ids = new Set(store.spawnedActors.all().map((r) => r.id))
  }

  has (id: string): boolean {
    return this.ids.has(id)
  }

  remember (actor: Omit<SavedActor, 'state'>): void {
    const now = this.clock.now()
    this.store.spawnedActors.insert({
      id: actor.id, kind: actor.kind, name: actor.name, teamId: actor.team, options: JSON.stringify(actor.options),
      state: 'running', createdAtMs: now, updatedAtMs: now,
    })
    this.ids.add(actor.id)
  }

  setState (id: string, state: SpawnedState): void {
    if (this.ids.has(id)) this.store.spawnedActors.setState(id, state, this.clock.now())
  }

  forget (id: string): void {
    if (this.ids.delete(id)) this.store.spawnedActors.remove(id)
  }

  /** Forgets every actor a team owned (the team was deleted); returns how many. */
  forgetTeam (teamId: string): number {
    const ids = this.store.spawnedActors.removeTeam(teamId)
    for (const id of ids) this.ids.delete(id)
    return ids.length
  }

  /** Every saved actor, oldest first; a row whose options are not a JSON object comes with `options: undefined`. */
  all (): Array<Omit<SavedActor, 'options'> & { options: Record<string, unknown> | undefined }> {
    return this.store.spawnedActors.all().map(parse)
  }
}

function parse (r: SpawnedActorRecord): Omit<SavedActor, 'options'> & { options: Record<string, unknown> | undefined } {
  let options: unknown
  try {
    options = JSON.parse(r.options)
  } catch {
    options = undefined
  }
  const valid = typeof options === 'object' && options !== null && !Array.isArray(options)
  return { id: r.id, kind: r.kind, name: r.name, team: r.teamId, state: r.state, options: valid ? options as Record<string, unknown> : undefined }
}
