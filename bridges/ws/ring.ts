/**
 * A FIFO of frames on a ring that only grows (doubling) to the most it has held: a slow client drops its
 * oldest frame and queues a new one for every message, and on a ring that costs no allocation at all (an
 * array with a moving head has to be re-sliced now and then, and at 500 slow clients those copies were a
 * large part of the garbage).
 */
export class FrameRing {
  private slots: Array<Buffer | undefined> = new Array<Buffer | undefined>(16)
  private head = 0
  size = 0

  push (frame: Buffer): void {
    if (this.size === this.slots.length) this.grow()
    this.slots[(this.head + this.size) & (this.slots.length - 1)] = frame
    this.size++
  }

  /** The oldest frame, removed; undefined when empty. */
  shift (): Buffer | undefined {
    if (this.size === 0) return undefined
    const frame = this.slots[this.head]
    this.slots[this.head] = undefined
    this.head = (this.head + 1) & (this.slots.length - 1)
    this.size--
    return frame
  }

  clear (): void {
    this.slots = new Array<Buffer | undefined>(16)
    this.head = 0
    this.size = 0
  }

  private grow (): void {
    const next = new Array<Buffer | undefined>(this.slots.length * 2)
    for (let i = 0; i < this.size; i++) next[i] = this.slots[(this.head + i) & (this.slots.length - 1)]
    this.slots = next
    this.head = 0
  }
}
