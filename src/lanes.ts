/**
 * Work keyed by an id that must never overlap for the same id (a worker's spawn and eviction, a capsule's
 * lifecycle changes): each `run` starts after the previous one for that key has settled, whatever its outcome.
 */
export class Lanes {
  private readonly tails = new Map<string, Promise<unknown>>()

  async run<T> (key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve()
    const next = before.catch(() => undefined).then(work)
    this.tails.set(key, next)
    try {
      return await next
    } finally {
      if (this.tails.get(key) === next) this.tails.delete(key)
    }
  }
}
