type Item = { kind: 'plain', go: () => void } | { kind: 'retained', store: (stored: () => void) => void }

interface State {
  /** Retained publishes being stored now (the journal commits them together, and answers them in order). */
  storing: number
  /** Publishes that arrived behind them, in order. */
  queue: Item[]
}

/**
 * Keeps each client's publishes in the order it sent them [MQTT-4.6.0-6] while its retained ones wait for the
 * journal's commit: a plain publish sent after a retained one waits until that one is stored and handed to
 * Aedes, instead of overtaking it. Consecutive retained publishes are stored together (one transaction), so
 * a client sending many of them still gets grouped commits.
 */
export class PublishOrder {
  private readonly states = new WeakMap<object, State>()

  /** True while the client has retained publishes being stored or publishes waiting behind them. */
  holding (client: object): boolean {
    return this.states.has(client)
  }

  /** Runs `go` now, or once the client's earlier retained publishes are through. */
  plain (client: object, go: () => void): void {
    const state = this.states.get(client)
    if (state === undefined) go()
    else state.queue.push({ kind: 'plain', go })
  }

  /** Runs `store` now (alongside other retained publishes being stored) or in turn; it calls `stored` when done. */
  retained (client: object, store: (stored: () => void) => void): void {
    let state = this.states.get(client)
    if (state === undefined) {
      state = { storing: 0, queue: [] }
      this.states.set(client, state)
    }
    if (state.queue.length === 0) this.store(client, state, store)
    else state.queue.push({ kind: 'retained', store })
  }

  private store (client: object, state: State, store: (stored: () => void) => void): void {
    state.storing++
    store(() => {
      state.storing--
      // Aedes emits a publish a few promise jobs after it is authorized (its in-memory retained store, the
      // offline queue), or after its PUBACK's write callback: what waited goes on the next turn, behind it.
      if (state.storing === 0) setImmediate(() => this.drain(client, state))
    })
  }

  private drain (client: object, state: State): void {
    while (state.queue.length > 0) {
      const next = state.queue[0] as Item
      if (next.kind === 'plain' && state.storing > 0) return
      state.queue.shift()
      if (next.kind === 'plain') next.go()
      else this.store(client, state, next.store)
    }
    if (state.storing === 0 && this.states.get(client) === state) this.states.delete(client)
  }
}
