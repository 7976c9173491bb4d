import type { Logger } from '../../src/index.js'
import type { StreamClient } from './client.js'

export interface SlowConsumerOptions {
  /** A client losing frames without catching up for this long is closed. */
  timeoutMs: number
  maxQueuedBytes: number
  overflow: 'drop' | 'close'
  /** Raises the one alert of an episode. */
  alert: (message: string, extra: Record<string, unknown>) => void
  log: Logger
}

/**
 * Watches the clients that are over their budget (`StreamClient.overSince`): closes those that stay over for
 * `timeoutMs` with 1013 (try again later), and raises one alert per episode — an episode runs from the first
 * client going over until no client is over any more, so 500 slow clients are one alert, not 500 or a
 * million (one per dropped frame).
 */
export class SlowConsumerWatch {
  private readonly over = new Set<StreamClient>()
  private episode: { startedAtMs: number, clients: number, closed: number, quietFromMs: number } | undefined
  closedTotal = 0
  episodes = 0

  constructor (private readonly options: SlowConsumerOptions) {}

  get size (): number {
    return this.over.size
  }

  /** Is an episode running (the sweeper has work)? */
  get active (): boolean {
    return this.episode !== undefined
  }

  /** After an offer or a flush: is this client over its budget now, or has it caught up? */
  note (client: StreamClient, now: number): void {
    if (client.overSince === undefined) {
      if (this.over.delete(client)) this.endIfQuiet(now)
      return
    }
    if (this.over.has(client)) return
    this.over.add(client)
    this.begin(now).clients++
  }

  /** `ws.overflow: close`: a client was closed (1013) the moment it went over. Same episode, same one alert. */
  closedAtOnce (now: number): void {
    const episode = this.begin(now)
    episode.clients++
    episode.closed++
    this.closedTotal++
    // No client stays "over" in this mode: the episode lasts until a timeout passes without another close.
    episode.quietFromMs = now + this.options.timeoutMs
  }

  private begin (now: number): NonNullable<SlowConsumerWatch['episode']> {
    if (this.episode === undefined) {
      this.episode = { startedAtMs: now, clients: 0, closed: 0, quietFromMs: now }
      this.episodes++
      const { maxQueuedBytes, timeoutMs, overflow } = this.options
      const policy = overflow === 'close'
        ? 'they are closed with 1013 (ws.overflow: close)'
        : `their oldest frames are dropped; one that stays over for ${timeoutMs} ms is closed with 1013`
      this.options.alert(`/ws clients are not keeping up: over ${maxQueuedBytes} bytes waiting; ${policy}`, { maxQueuedBytes, slowClientTimeoutMs: timeoutMs, overflow })
    }
    return this.episode
  }

  /** Closes every client that has been over its budget for too long. */
  sweep (now: number): void {
    for (const client of this.over) {
      if (!client.checkCaughtUp() && now - (client.overSince as number) < this.options.timeoutMs) continue
      if (client.overSince !== undefined) {
        this.closedTotal++
        if (this.episode !== undefined) this.episode.closed++
        client.close(1013, `slow consumer: over ${this.options.maxQueuedBytes} bytes for ${this.options.timeoutMs} ms`)
      }
      this.over.delete(client)
    }
    this.endIfQuiet(now)
  }

  /** A client that went away (or was closed) is no longer part of the episode. */
  forget (client: StreamClient, now: number): void {
    if (this.over.delete(client)) this.endIfQuiet(now)
  }

  private endIfQuiet (now: number): void {
    if (this.over.size > 0 || this.episode === undefined || now < this.episode.quietFromMs) return
    const { startedAtMs, clients, closed } = this.episode
    this.episode = undefined
    this.options.log.info({ clients, closed, ms: now - startedAtMs }, 'slow /ws consumers: episode over (caught up or gone)')
  }
}
