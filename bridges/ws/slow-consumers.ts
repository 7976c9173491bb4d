import type { Logger } from '../../src/index.js'
import type { StreamClient } from './client.js'

export interface SlowConsumerOptions {
  /** A client losing frames without catching up for this long is closed. */
  timeoutMs: number
  maxQueuedBytes: number
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
  private episode: { startedAtMs: number, clients: number, closed: number } | undefined
  closedTotal = 0
  episodes = 0

  constructor (private readonly options: SlowConsumerOptions) {}

  get size (): number {
    return this.over.size
  }

  /** After an offer or a flush: is this client over its budget now, or has it caught up? */
  note (client: StreamClient, now: number): void {
    if (client.overSince === undefined) {
      if (this.over.delete(client)) this.endIfQuiet(now)
      return
    }
    if (this.over.has(client)) return
    this.over.add(client)
    if (this.episode === undefined) {
      this.episode = { startedAtMs: now, clients: 0, closed: 0 }
      this.episodes++
      const { maxQueuedBytes, timeoutMs } = this.options
      this.options.alert(`/ws clients are not keeping up: over ${maxQueuedBytes} bytes waiting, their oldest frames are dropped; ` +
        `one that stays over for ${timeoutMs} ms is closed with 1013`, { maxQueuedBytes, slowClientTimeoutMs: timeoutMs })
    }
    this.episode.clients++
  }

  /** Closes every client that has been over its budget for too long. */
  sweep (now: number): void {
    for (const client of this.over) {
      if (client.overSince !== undefined && now - client.overSince < this.options.timeoutMs) continue
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
    if (this.over.size > 0 || this.episode === undefined) return
    const { startedAtMs, clients, closed } = this.episode
    this.episode = undefined
    this.options.log.info({ clients, closed, ms: now - startedAtMs }, 'slow /ws consumers: episode over (caught up or gone)')
  }
}
