/**
 * Time is injected so that heartbeats, monitors and TTLs are testable without sleeping.
 * `systemClock` is the real one; `ManualClock` (tests) only moves when told to.
 */
/** Opaque: whatever the clock's setTimeout returned. */
export type TimerHandle = unknown

export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    // Timers in the runtime never keep the process alive on their own: listeners do.
    t.unref()
    return t
  },
  clearTimeout: (handle) => { clearTimeout(handle as NodeJS.Timeout) },
}

interface ManualTimer { id: number, due: number, fn: () => void }

/** A clock for tests: `advance(ms)` runs every timer that falls due, in order. */
export class ManualClock implements Clock {
  private current: number
  private seq = 0
  private timers = new Map<number, ManualTimer>()

  constructor (start = 1_700_000_000_000) {
    this.current = start
  }

  now (): number {
    return this.current
  }

  setTimeout (fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq
    this.timers.set(id, { id, due: this.current + Math.max(0, ms), fn })
    return id
  }

  clearTimeout (handle: TimerHandle): void {
    this.timers.delete(handle as number)
  }

  /** Moves time forward, firing due timers one at a time (timers set while firing are honoured). */
  advance (ms: number): void {
    const target = this.current + ms
    for (;;) {
      let next: ManualTimer | undefined
      for (const t of this.timers.values()) {
        if (t.due <= target && (next === undefined || t.due < next.due || (t.due === next.due && t.id < next.id))) next = t
      }
      if (next === undefined) break
      this.timers.delete(next.id)
      this.current = Math.max(this.current, next.due)
      next.fn()
    }
    this.current = target
  }

  get pending (): number {
    return this.timers.size
  }
}
