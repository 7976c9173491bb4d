import type { Clock, TimerHandle } from '../clock.js'

export interface Beater {
  /** Publishes one beat; returns false when it could not (the bus is saturated) so it is retried, coalesced. */
  beat(): boolean
}

interface Entry { due: number, beater: Beater, removed: boolean }

/** Beats that fall due within this many ms of each other are sent in one timer callback. */
const BATCH_MS = 2
/** How soon a beat deferred by back-pressure is retried. */
const RETRY_MS = 5

/**
 * One timer for every actor's heartbeat: a binary min-heap ordered by due time. Each actor gets a random
 * phase within its interval so 10 000 actors do not beat in the same millisecond, then keeps that phase
 * (no drift). A beat that cannot be sent because the bus is saturated is not queued: the actor waits in a
 * "deferred" set (at most once) and its *current* state is sent when there is room, latest beat wins.
 */
export class HeartbeatScheduler {
  private heap: Entry[] = []
  private entries = new Map<Beater, Entry>()
  private deferred = new Set<Beater>()
  private timer: TimerHandle
  private timerDue = Infinity
  private stopped = false

  constructor (private readonly clock: Clock, private readonly intervalMs: number, private readonly random = Math.random) {}

  get size (): number {
    return this.entries.size
  }

  add (beater: Beater): void {
    if (this.entries.has(beater) || this.stopped) return
    const entry: Entry = { due: this.clock.now() + Math.floor(this.random() * this.intervalMs), beater, removed: false }
    this.entries.set(beater, entry)
    this.push(entry)
    this.arm()
  }

  remove (beater: Beater): void {
    const entry = this.entries.get(beater)
    if (entry === undefined) return
    entry.removed = true
    this.entries.delete(beater)
    this.deferred.delete(beater)
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.heap = []
    this.entries.clear()
    this.deferred.clear()
  }

  private tick (): void {
    this.timer = undefined
    this.timerDue = Infinity
    const now = this.clock.now()
    // Beats deferred by back-pressure go first; one sent now also stands for a regular beat due in this tick.
    const sent = new Set<Beater>()
    for (const beater of this.deferred) {
      if (!beater.beat()) break
      this.deferred.delete(beater)
      sent.add(beater)
    }
    while (this.heap.length > 0 && (this.heap[0] as Entry).due <= now + BATCH_MS) {
      const entry = this.pop() as Entry
      if (entry.removed) continue
      if (!sent.has(entry.beater) && !entry.beater.beat()) this.deferred.add(entry.beater)
      // Keep the phase; after a stall (event loop blocked, clock jumped) skip missed beats instead of bursting.
      entry.due += this.intervalMs
      if (entry.due <= now) entry.due = now + this.intervalMs - ((now - entry.due) % this.intervalMs)
      this.push(entry)
    }
    this.arm()
  }

  private arm (): void {
    if (this.stopped) return
    let due = this.heap.length > 0 ? (this.heap[0] as Entry).due : Infinity
    if (this.deferred.size > 0) due = Math.min(due, this.clock.now() + RETRY_MS)
    if (due === Infinity || due >= this.timerDue) return
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timerDue = due
    this.timer = this.clock.setTimeout(() => this.tick(), Math.max(0, due - this.clock.now()))
  }

  private push (entry: Entry): void {
    const heap = this.heap
    heap.push(entry)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((heap[parent] as Entry).due <= entry.due) break
      heap[i] = heap[parent] as Entry
      i = parent
    }
    heap[i] = entry
  }

  private pop (): Entry | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length === 0 || last === undefined) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let smallest = i
      let smallestDue = last.due
      if (l < heap.length && (heap[l] as Entry).due < smallestDue) { smallest = l; smallestDue = (heap[l] as Entry).due }
      if (r < heap.length && (heap[r] as Entry).due < smallestDue) smallest = r
      if (smallest === i) break
      heap[i] = heap[smallest] as Entry
      i = smallest
    }
    heap[i] = last
    return top
  }
}
