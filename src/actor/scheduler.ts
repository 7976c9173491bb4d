import type { Clock, TimerHandle } from '../clock.js'

export interface Beater {
  /** Publishes one beat; returns false when it could not (the bus is saturated) so it is retried, coalesced. */
  beat(): boolean
}

interface Entry { due: number, beater: Beater, removed: boolean }

/**
 * Beats that fall due within this many ms of each other are sent in one timer callback (a beat leaves up to this
 * much early). Everything published in one callback reaches a subscriber's socket in one write, so the width
 * sets how many writes a second heartbeats cost: 2 ms meant ~300 writes a second at 10 000 actors and 1 Hz, the
 * largest single cost of their CPU. A fiftieth of the interval, 2 to 20 ms.
 */
export const batchMs = (intervalMs: number): number => Math.max(2, Math.min(20, Math.floor(intervalMs / 50)))
/** How soon a beat deferred by back-pressure is retried. */
const RETRY_MS = 5

/**
 * One timer for every actor's heartbeat. Each actor gets a random phase within its interval so 10 000 actors do
 * not beat in the same millisecond, then keeps that phase (no drift). A beat that cannot be sent because the bus
 * is saturated is not queued: the actor waits in a "deferred" set (at most once) and its *current* state is sent
 * when there is room, latest beat wins.
 *
 * Most entries wait in a queue ordered by due time. Every entry has the same interval, and a tick beats the due
 * entries in due order, so an entry that beats goes to the back with `due + interval` and the queue stays ordered:
 * a beat costs O(1), where a heap cost two O(log n) walks over memory scattered across 10 000 entries. Entries
 * that are out of that order (new ones, at a random phase, and ones re-phased after a stall) wait in a small heap
 * until their first beat; a sorted insert into the queue instead made spawning 100 000 actors quadratic.
 */
export class HeartbeatScheduler {
  /** In-order entries from `head` on, by due time. */
  private queue: Entry[] = []
  private head = 0
  /** Out-of-order entries: a binary min-heap by due time. */
  private heap: Entry[] = []
  private entries = new Map<Beater, Entry>()
  private deferred = new Set<Beater>()
  private timer: TimerHandle
  private timerDue = Infinity
  private stopped = false
  private readonly batchMs: number

  constructor (private readonly clock: Clock, private readonly intervalMs: number, private readonly random = Math.random) {
    this.batchMs = batchMs(intervalMs)
  }

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
    this.queue = []
    this.head = 0
    this.heap = []
    this.entries.clear()
    this.deferred.clear()
  }

  private tick (): void {
    this.timer = undefined
    this.timerDue = Infinity
    const now = this.clock.now()
    const limit = now + this.batchMs
    // Beats deferred by back-pressure go first; one sent now also stands for a regular beat due in this tick.
    let sent: Set<Beater> | undefined
    for (const beater of this.deferred) {
      if (!beater.beat()) break
      this.deferred.delete(beater)
      ;(sent ??= new Set()).add(beater)
    }
    // Both sources, merged in due order: what goes to the back of the queue then arrives in order. An entry put
    // back is due after `limit`, so none beats twice in one tick.
    for (;;) {
      const first = this.head < this.queue.length ? this.queue[this.head] as Entry : undefined
      const top = this.heap[0]
      let entry: Entry
      if (first !== undefined && (top === undefined || first.due <= top.due)) {
        if (first.due > limit) break
        entry = first
        this.queue[this.head++] = undefined as unknown as Entry
      } else if (top !== undefined && top.due <= limit) {
        entry = this.pop() as Entry
      } else break
      if (entry.removed) continue
      if (sent?.has(entry.beater) !== true && !entry.beater.beat()) this.deferred.add(entry.beater)
      // Keep the phase; after a stall (event loop blocked, clock jumped) skip missed beats instead of bursting.
      entry.due += this.intervalMs
      if (entry.due > limit) this.queue.push(entry)
      else {
        entry.due += Math.ceil((limit + 1 - entry.due) / this.intervalMs) * this.intervalMs
        this.push(entry)
      }
    }
    this.compact()
    this.arm()
  }

  private arm (): void {
    if (this.stopped) return
    let due = this.head < this.queue.length ? (this.queue[this.head] as Entry).due : Infinity
    if (this.heap.length > 0) due = Math.min(due, (this.heap[0] as Entry).due)
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

  /** Drops the consumed front once it is most of the array. */
  private compact (): void {
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }
}
