/** A bounded FIFO (ring buffer): `push` refuses instead of growing or blocking. */
export class Mailbox<T> {
  private items: Array<T | undefined>
  private head = 0
  private count = 0

  constructor (readonly capacity: number) {
    this.items = new Array<T | undefined>(Math.min(capacity, 64))
  }

  get size (): number {
    return this.count
  }

  get full (): boolean {
    return this.count >= this.capacity
  }

  push (item: T): boolean {
    if (this.count >= this.capacity) return false
    if (this.count === this.items.length) this.grow()
    this.items[(this.head + this.count) % this.items.length] = item
    this.count++
    return true
  }

  shift (): T | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.count--
    return item
  }

  clear (): void {
    this.items = new Array<T | undefined>(Math.min(this.capacity, 64))
    this.head = 0
    this.count = 0
  }

  private grow (): void {
    const next = new Array<T | undefined>(Math.min(this.capacity, this.items.length * 2))
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) % this.items.length]
    this.items = next
    this.head = 0
  }
}
