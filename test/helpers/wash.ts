import { connect, createInbox, type NatsConnection, type Subscription } from '@nats-io/transport-node'

/** A CtlResponse (wasmCloud 1.x) that may also carry the seed's CtlOperationAck fields. */
export interface CtlReply { success: boolean, message: string, response?: any, accepted?: boolean, error?: string, [k: string]: unknown }

export interface LatticeEvent { specversion: string, id: string, type: string, source: string, time: string, datacontenttype: string, data: any, subject: string, index: number }

/**
 * A control-interface client that behaves like wash 1.x: 2 s single requests, scatter-gather that collects every
 * reply until its timeout (stopping early on an empty payload), and waiting for events by `source` and `image_ref`.
 * It records every lattice event from the moment it connects, so a test can wait for one that already arrived.
 */
export class Wash {
  readonly events: LatticeEvent[] = []
  private waiters: Array<{ from: number, test: (e: LatticeEvent) => boolean, resolve: (e: LatticeEvent) => void }> = []
  private readonly subs: Subscription[] = []

  private constructor (readonly nc: NatsConnection, readonly lattice: string, readonly prefix: string) {}

  static async connect (url: string, lattice = 'default', options: { ctlPrefix?: string, eventSubject?: string } = {}): Promise<Wash> {
    const nc = await connect({ servers: url })
    const wash = new Wash(nc, lattice, `${options.ctlPrefix ?? 'wasmbus.ctl'}.v1.${lattice}`)
    wash.subs.push(nc.subscribe(options.eventSubject ?? `wasmbus.evt.${lattice}.>`, { callback: (_err, msg) => wash.record(msg.subject, msg.string()) }))
    await nc.flush()
    return wash
  }

  private record (subject: string, text: string): void {
    const e = { ...JSON.parse(text), subject, index: this.events.length } as LatticeEvent
    this.events.push(e)
    this.waiters = this.waiters.filter((w) => {
      if (e.index >= w.from && w.test(e)) {
        w.resolve(e)
        return false
      }
      return true
    })
  }

  get mark (): number {
    return this.events.length
  }

  /** The first event named `name` (at or after `from`) that passes `test`. */
  event (name: string, test: (e: LatticeEvent) => boolean = () => true, options: { from?: number, timeoutMs?: number } = {}): Promise<LatticeEvent> {
    const from = options.from ?? 0
    const match = (e: LatticeEvent): boolean => e.type === `com.wasmcloud.lattice.${name}` && test(e)
    const found = this.events.find((e) => e.index >= from && match(e))
    if (found !== undefined) return Promise.resolve(found)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done)
        reject(new Error(`timed out waiting for event ${name}; saw ${this.events.slice(from).map((e) => e.type.split('.').pop()).join(', ')}`))
      }, options.timeoutMs ?? 10_000)
      const done = (e: LatticeEvent): void => {
        clearTimeout(timer)
        resolve(e)
      }
      this.waiters.push({ from, test: match, resolve: done })
    })
  }

  /** `name` events at or after `from` (no waiting). */
  seen (name: string, from = 0): LatticeEvent[] {
    return this.events.filter((e) => e.index >= from && e.type === `com.wasmcloud.lattice.${name}`)
  }

  /** One request to one responder, 2 s timeout (wash's DEFAULT_NATS_TIMEOUT_MS). `body` is JSON-encoded unless a string. */
  async request (subject: string, body: unknown = '', timeoutMs = 2000): Promise<CtlReply> {
    const payload = typeof body === 'string' ? body : JSON.stringify(body)
    const reply = await this.nc.request(`${this.prefix}.${subject}`, payload, { timeout: timeoutMs })
    return JSON.parse(reply.string()) as CtlReply
  }

  /** Scatter-gather: every reply until `timeoutMs`, stopping early on an empty payload (as the Rust client does). */
  async gather (subject: string, body: unknown = '', timeoutMs = 1000): Promise<CtlReply[]> {
    const inbox = createInbox()
    const replies: CtlReply[] = []
    await new Promise<void>((resolve) => {
      const sub = this.nc.subscribe(inbox, {
        callback: (_err, msg) => {
          if (msg.data.length === 0) {
            finish()
            return
          }
          replies.push(JSON.parse(msg.string()) as CtlReply)
        },
      })
      const timer = setTimeout(() => finish(), timeoutMs)
      const finish = (): void => {
        clearTimeout(timer)
        sub.unsubscribe()
        resolve()
      }
      this.nc.publish(`${this.prefix}.${subject}`, typeof body === 'string' ? body : JSON.stringify(body), { reply: inbox })
    })
    return replies
  }

  /** Waits until a `host_heartbeat` from each of `hostIds` arrived after this call: the routes carry both ways. */
  async converge (hostIds: string[], timeoutMs = 10_000): Promise<void> {
    const from = this.mark
    await Promise.all(hostIds.map((id) => this.event('host_heartbeat', (e) => e.source === id, { from, timeoutMs })))
  }

  async close (): Promise<void> {
    for (const s of this.subs) s.unsubscribe()
    await this.nc.drain()
  }
}
