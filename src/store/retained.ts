import type { Db } from './db.js'

/** A retained MQTT message a client published. */
export interface RetainedRow { topic: string, payload: Buffer, qos: 0 | 1 | 2, updatedAtMs: number }

interface Row { topic: string, payload: Buffer, qos: number, updated_at: number }

/** Retained messages published by MQTT clients (Home Assistant discovery, device state), by topic. */
export class RetainedMessages {
  private readonly stmts

  constructor (db: Db) {
    this.stmts = {
      put: db.prepare(`INSERT INTO retained_messages (topic, payload, qos, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (topic) DO UPDATE SET payload = excluded.payload, qos = excluded.qos, updated_at = excluded.updated_at`),
      remove: db.prepare('DELETE FROM retained_messages WHERE topic = ?'),
      all: db.prepare<[], Row>('SELECT * FROM retained_messages ORDER BY topic'),
    }
  }

  /** Stores the message; an empty payload clears the topic, as in MQTT. */
  put (m: RetainedRow): void {
    if (m.payload.length === 0) this.stmts.remove.run(m.topic)
    else this.stmts.put.run(m.topic, m.payload, m.qos, m.updatedAtMs)
  }

  all (): RetainedRow[] {
    return this.stmts.all.all().map((r) => ({ topic: r.topic, payload: r.payload, qos: r.qos as 0 | 1 | 2, updatedAtMs: r.updated_at }))
  }
}
