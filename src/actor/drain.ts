import type { Mailbox } from './mailbox.js'

/** Messages handled in a row before the drain lets the event loop run (I/O, timers, other actors). */
export const DRAIN_BATCH = 128

/** What the drain needs from the actor whose mailbox it empties. */
export interface DrainTarget<M> {
  /** True while messages may be handled: the actor is running and has a behaviour instance. */
  ready(): boolean
  /** Handles one message; a throw or a rejection is a crash. */
  handle(message: M): Promise<void> | undefined
  /** One message was handled. */
  processed(): void
  /** `message` crashed the actor; it is not retried, the rest of the mailbox stays. */
  crashed(err: unknown, message: M): void
  /** A message was refused because the mailbox is full; `firstOfEpisode` is true once until it drains to half. */
  refused(firstOfEpisode: boolean): void
}

/** How the drain waits: when to start one (a microtask) and how to let the loop run between batches. */
export interface DrainTiming {
  schedule(run: () => void): void
  yieldToLoop(): Promise<void>
}

/**
 * The mailbox policy of one actor, apart from the actor: a full mailbox refuses (never drops a queued message or
 * grows), messages are handled one at a time in arrival order while the actor is ready, and nothing is handled
 * otherwise (paused, restarting, stopped: the queue waits). A crash drops only the message that caused it.
 */
export class Drain<M> {
  private draining = false
  private scheduled = false
  private overflowing = false

  constructor (
    readonly mailbox: Mailbox<M>,
    private readonly target: DrainTarget<M>,
    private readonly timing: DrainTiming,
  ) {}

  /** Queues a message and starts a drain; false when the mailbox is full. */
  offer (message: M): boolean {
    if (!this.mailbox.push(message)) {
      const first = !this.overflowing
      this.overflowing = true
      this.target.refused(first)
      return false
    }
    this.kick()
    return true
  }

  /** Starts a drain soon, unless one is running or scheduled, or the actor is not ready (it kicks again when it is). */
  kick (): void {
    if (this.scheduled || this.draining || !this.target.ready()) return
    this.scheduled = true
    this.timing.schedule(() => {
      this.scheduled = false
      void this.run()
    })
  }

  private async run (): Promise<void> {
    if (this.draining) return
    this.draining = true
    let batch = 0
    try {
      while (this.target.ready() && this.mailbox.size > 0) {
        const message = this.mailbox.shift() as M
        try {
          const pending = this.target.handle(message)
          if (pending !== undefined) await pending
          this.target.processed()
        } catch (err) {
          this.target.crashed(err, message)
          return
        }
        // Half empty again: the next refusal is a new episode and alerts again.
        if (this.overflowing && this.mailbox.size <= this.mailbox.capacity / 2) this.overflowing = false
        if (++batch >= DRAIN_BATCH) {
          batch = 0
          await this.timing.yieldToLoop()
        }
      }
    } finally {
      this.draining = false
    }
  }
}
