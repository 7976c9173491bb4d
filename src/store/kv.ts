import type { Db } from './db.js'

/** The keyvalue provider's storage: values by (scope, bucket, key); the scope keeps components apart. */
export class KeyValues {
  private readonly stmts

  constructor (db: Db) {
    this.stmts = {
      get: db.prepare<[string, string, string], { value: Buffer }>('SELECT value FROM kv WHERE scope = ? AND bucket = ? AND key = ?'),
      set: db.prepare('INSERT INTO kv (scope, bucket, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (scope, bucket, key) DO UPDATE SET value = excluded.value'),
      remove: db.prepare('DELETE FROM kv WHERE scope = ? AND bucket = ? AND key = ?'),
      keys: db.prepare<[string, string], { key: string }>('SELECT key FROM kv WHERE scope = ? AND bucket = ? ORDER BY key'),
    }
  }

  get (scope: string, bucket: string, key: string): Buffer | undefined {
    return this.stmts.get.get(scope, bucket, key)?.value
  }

  set (scope: string, bucket: string, key: string, value: Uint8Array): void {
    this.stmts.set.run(scope, bucket, key, Buffer.from(value))
  }

  remove (scope: string, bucket: string, key: string): void {
    this.stmts.remove.run(scope, bucket, key)
  }

  keys (scope: string, bucket: string): string[] {
    return this.stmts.keys.all(scope, bucket).map((r) => r.key)
  }
}
