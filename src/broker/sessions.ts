import type { Client } from 'aedes'
import type { Clock, TimerHandle } from '../clock.js'
import type { Identity } from '../auth/identity.js'

/**
 * Who each connected MQTT client is. Lets the bus tag messages with their sender, closes every session of a
 * revoked API key at once, and ends a JWT session when its token expires.
 */
export class Sessions {
  private readonly byClient = new WeakMap<Client, Identity>()
  private readonly byClientId = new Map<string, Identity>()
  private readonly byKey = new Map<string, Set<Client>>()
  private readonly expiries = new WeakMap<Client, TimerHandle>()

  constructor (private readonly clock: Clock) {}

  add (client: Client, identity: Identity): void {
    this.byClient.set(client, identity)
    if (client.id !== null && client.id !== undefined) this.byClientId.set(client.id, identity)
    if (identity.keyId !== undefined) {
      const set = this.byKey.get(identity.keyId) ?? new Set<Client>()
      set.add(client)
      this.byKey.set(identity.keyId, set)
    }
    if (identity.expiresAtMs !== undefined) {
      const timer = this.clock.setTimeout(() => { client.close() }, Math.max(0, identity.expiresAtMs - this.clock.now()))
      this.expiries.set(client, timer)
    }
  }

  remove (client: Client): void {
    const identity = this.byClient.get(client)
    if (identity === undefined) return
    this.byClient.delete(client)
    if (client.id !== null && client.id !== undefined && this.byClientId.get(client.id) === identity) this.byClientId.delete(client.id)
    if (identity.keyId !== undefined) {
      const set = this.byKey.get(identity.keyId)
      set?.delete(client)
      if (set?.size === 0) this.byKey.delete(identity.keyId)
    }
    const timer = this.expiries.get(client)
    if (timer !== undefined) this.clock.clearTimeout(timer)
  }

  of (client: Client): Identity | undefined {
    return this.byClient.get(client)
  }

  ofClientId (clientId: string): Identity | undefined {
    return this.byClientId.get(clientId)
  }

  /** Disconnects every client that authenticated with one of these keys; returns how many. */
  revoke (keyIds: string[]): number {
    let closed = 0
    for (const id of keyIds) {
      for (const client of this.byKey.get(id) ?? []) {
        client.close()
        closed++
      }
      this.byKey.delete(id)
    }
    return closed
  }
}
