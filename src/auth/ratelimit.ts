import type { Clock } from '../clock.js'

/**
 * Counts failures per key inside a sliding window (a list of timestamps per key, pruned as it is read).
 * Used for logins, per account and per address: a key over its limit is refused until old failures age out.
 */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>()

  constructor (private readonly clock: Clock, private readonly limit: number, private readonly windowMs: number) {}

  /** Milliseconds until `key` may try again, or 0 when it may now. */
  retryAfterMs (key: string): number {
    const list = this.prune(key)
    if (list.length < this.limit) return 0
    return (list[0] as number) + this.windowMs - this.clock.now()
  }

  fail (key: string): void {
    const list = this.prune(key)
    list.push(this.clock.now())
    this.failures.set(key, list)
    if (this.failures.size > 100_000) this.sweep()
  }

  reset (key: string): void {
    this.failures.delete(key)
  }

  private prune (key: string): number[] {
    const cutoff = this.clock.now() - this.windowMs
    const list = (this.failures.get(key) ?? []).filter((t) => t > cutoff)
    if (list.length === 0) this.failures.delete(key)
    return list
  }

  /** Keeps memory bounded under a spray of distinct keys. */
  private sweep (): void {
    for (const key of [...this.failures.keys()]) this.prune(key)
  }
}
