import { EventEmitter } from 'node:events'
import { ColonyError } from '../errors.js'
import type { Compiled } from './compiler.js'
import { WasmInstance, type InstanceOptions } from './instance.js'
import type { CallOutcome } from './worker.js'

interface PoolEvents {
  log: [stream: 'stdout' | 'stderr', text: string, instance: number]
  /** An instance died (timeout, memory budget, crash) and is being replaced. */
  lost: [reason: string, instance: number]
}

interface Slot { n: number, instance: WasmInstance, compiled: Compiled }
interface Waiter { resolve: (slot: Slot) => void, reject: (err: Error) => void }

/**
 * N instances of one component, each in its own worker: at most N calls run at once, the rest wait in a bounded
 * FIFO. A dead instance is replaced; a new component version replaces instances as they become idle.
 */
export class InstancePool extends EventEmitter<PoolEvents> {
  private slots: Slot[] = []
  private idle: Slot[] = []
  private waiting: Waiter[] = []
  private target = 0
  private seq = 0
  private closed = false
  private starting = 0

  constructor (private compiled: Compiled, private readonly options: InstanceOptions, private readonly maxWaiting: number) {
    super()
  }

  get size (): number { return this.slots.length }
  get busy (): number { return this.slots.length - this.idle.length }
  get queued (): number { return this.waiting.length }
  get desired (): number { return this.target }

  /** Starts or stops instances until `n` run; resolves once they do (rejects if one cannot start). */
  async scaleTo (n: number): Promise<void> {
    this.target = n
    while (this.slots.length + this.starting < this.target) await this.add()
    while (this.slots.length > this.target && this.idle.length > 0) {
      const slot = this.idle.pop() as Slot
      this.drop(slot)
      await slot.instance.terminate('scaled down')
    }
    // Busy instances beyond the target retire when their call ends (see release).
  }

  /** New calls get instances of this version; running instances are replaced when their call ends. */
  async upgrade (compiled: Compiled): Promise<void> {
    this.compiled = compiled
    for (const slot of [...this.idle]) {
      this.drop(slot)
      await slot.instance.terminate('upgraded')
    }
    await this.scaleTo(this.target)
  }

  async call (path: string[], args: unknown[], timeoutMs: number, returnsResult = false): Promise<CallOutcome> {
    const slot = await this.acquire()
    try {
      return await slot.instance.call(path, args, timeoutMs, returnsResult)
    } finally {
      this.release(slot)
    }
  }

  async close (): Promise<void> {
    this.closed = true
    this.target = 0
    for (const w of this.waiting.splice(0)) w.reject(new ColonyError('not_scaled', 'the component was stopped'))
    await Promise.all(this.slots.map((s) => s.instance.terminate('stopped')))
    this.slots = []
    this.idle = []
  }

  private acquire (): Promise<Slot> {
    if (this.closed || this.target === 0) return Promise.reject(new ColonyError('not_scaled', 'the component has no instances'))
    const slot = this.idle.pop()
    if (slot !== undefined) return Promise.resolve(slot)
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(new ColonyError('mailbox_full', `all ${this.slots.length} instances are busy and ${this.waiting.length} calls wait`))
    }
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }))
  }

  private release (slot: Slot): void {
    if (!this.slots.includes(slot)) return
    const stale = slot.compiled !== this.compiled || this.slots.length > this.target
    if (!slot.instance.alive || stale) {
      this.drop(slot)
      if (slot.instance.alive) void slot.instance.terminate(stale ? 'replaced' : 'dead')
      if (!this.closed && this.slots.length + this.starting < this.target) void this.add().catch(() => undefined)
      return
    }
    const waiter = this.waiting.shift()
    if (waiter !== undefined) waiter.resolve(slot)
    else this.idle.push(slot)
  }

  private async add (): Promise<void> {
    const n = ++this.seq
    this.starting++
    let instance: WasmInstance
    try {
      instance = await WasmInstance.start(this.compiled, this.options)
    } finally {
      this.starting--
    }
    const slot: Slot = { n, instance, compiled: this.compiled }
    if (this.closed) {
      await instance.terminate('stopped')
      return
    }
    instance.on('log', (stream, text) => this.emit('log', stream, text, n))
    instance.on('exit', (reason) => {
      if (this.closed || !this.slots.includes(slot)) return
      this.emit('lost', reason, n)
      // Idle instances that die are replaced at once; busy ones when their call returns (release).
      if (this.idle.includes(slot)) {
        this.drop(slot)
        void this.add().catch(() => undefined)
      }
    })
    this.slots.push(slot)
    this.release(slot)
  }

  private drop (slot: Slot): void {
    this.slots = this.slots.filter((s) => s !== slot)
    this.idle = this.idle.filter((s) => s !== slot)
  }
}
