import type { Db } from './db.js'

export interface ChannelRecord {
  id: string
  teamId: string
  name: string
  provider: string
  /** JSON object of sealed values (base64 of nonce, ciphertext and tag): never plaintext. */
  config: string
  events: string[]
  /** JSON of the alert filter, or null. */
  alertFilter: string | null
  mutedUntilMs: number | null
  createdAtMs: number
  updatedAtMs: number
}

/** A delivery waiting in the outbox: sent, then deleted (delivered, or failed its last attempt). */
export interface DeliveryRecord {
  id: string
  channelId: string
  /** JSON of the notification. */
  body: string
  attempts: number
  nextAtMs: number
  createdAtMs: number
}

interface Row { id: string, team_id: string, name: string, provider: string, config: string, events: string, alert_filter: string | null, muted_until: number | null, created_at: number, updated_at: number }
interface DeliveryRow { id: string, channel_id: string, body: string, attempts: number, next_at: number, created_at: number }

const toChannel = (r: Row): ChannelRecord => ({
  id: r.id, teamId: r.team_id, name: r.name, provider: r.provider, config: r.config, events: JSON.parse(r.events) as string[],
  alertFilter: r.alert_filter, mutedUntilMs: r.muted_until, createdAtMs: r.created_at, updatedAtMs: r.updated_at,
})
const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id, channelId: r.channel_id, body: r.body, attempts: r.attempts, nextAtMs: r.next_at, createdAtMs: r.created_at,
})

/** Notification channels of teams (Wrenn's), and the outbox of their deliveries. */
export class Channels {
  private readonly stmts

  constructor (private readonly db: Db) {
    const cols = 'id, team_id, name, provider, config, events, alert_filter, muted_until, created_at, updated_at'
    this.stmts = {
      insert: db.prepare(`INSERT INTO channels (${cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      get: db.prepare<[string], Row>(`SELECT ${cols} FROM channels WHERE id = ?`),
      named: db.prepare<[string, string], Row>(`SELECT ${cols} FROM channels WHERE team_id = ? AND name = ?`),
      forTeam: db.prepare<[string], Row>(`SELECT ${cols} FROM channels WHERE team_id = ? ORDER BY created_at, id`),
      all: db.prepare<[], Row>(`SELECT ${cols} FROM channels`),
      update: db.prepare('UPDATE channels SET name = ?, events = ?, alert_filter = ?, updated_at = ? WHERE id = ?'),
      setConfig: db.prepare('UPDATE channels SET config = ?, updated_at = ? WHERE id = ?'),
      mute: db.prepare('UPDATE channels SET muted_until = ?, updated_at = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM channels WHERE id = ?'),
      enqueue: db.prepare('INSERT INTO channel_deliveries (id, channel_id, body, attempts, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      retry: db.prepare('UPDATE channel_deliveries SET attempts = ?, next_at = ? WHERE id = ?'),
      done: db.prepare('DELETE FROM channel_deliveries WHERE id = ?'),
      pending: db.prepare<[], DeliveryRow>('SELECT id, channel_id, body, attempts, next_at, created_at FROM channel_deliveries ORDER BY next_at, created_at'),
    }
  }

  insert (c: ChannelRecord): void {
    this.stmts.insert.run(c.id, c.teamId, c.name, c.provider, c.config, JSON.stringify(c.events), c.alertFilter, c.mutedUntilMs, c.createdAtMs, c.updatedAtMs)
  }

  get (id: string): ChannelRecord | undefined {
    const r = this.stmts.get.get(id)
    return r === undefined ? undefined : toChannel(r)
  }

  named (teamId: string, name: string): ChannelRecord | undefined {
    const r = this.stmts.named.get(teamId, name)
    return r === undefined ? undefined : toChannel(r)
  }

  forTeam (teamId: string): ChannelRecord[] {
    return this.stmts.forTeam.all(teamId).map(toChannel)
  }

  all (): ChannelRecord[] {
    return this.stmts.all.all().map(toChannel)
  }

  update (id: string, p: { name: string, events: string[], alertFilter: string | null }, nowMs: number): void {
    this.stmts.update.run(p.name, JSON.stringify(p.events), p.alertFilter, nowMs, id)
  }

  setConfig (id: string, config: string, nowMs: number): void {
    this.stmts.setConfig.run(config, nowMs, id)
  }

  mute (id: string, untilMs: number | null, nowMs: number): void {
    this.stmts.mute.run(untilMs, nowMs, id)
  }

  /** Deletes the channel and (cascade) its pending deliveries. */
  remove (id: string): boolean {
    return this.stmts.remove.run(id).changes > 0
  }

  /**
   * Writes a batch of outbox changes in one transaction: one commit (one fsync) for a whole burst of deliveries
   * and attempt results instead of one per row.
   */
  commit (batch: { enqueue: DeliveryRecord[], retry: Array<{ id: string, attempts: number, nextAtMs: number }>, done: string[] }): void {
    this.db.transaction(() => {
      for (const d of batch.enqueue) this.stmts.enqueue.run(d.id, d.channelId, d.body, d.attempts, d.nextAtMs, d.createdAtMs)
      for (const r of batch.retry) this.stmts.retry.run(r.attempts, r.nextAtMs, r.id)
      for (const id of batch.done) this.stmts.done.run(id)
    })()
  }

  pending (): DeliveryRecord[] {
    return this.stmts.pending.all().map(toDelivery)
  }
}
