import Database from 'better-sqlite3'
import { ColonyError } from '../errors.js'
import { MIGRATIONS, type Migration } from './migrations.js'

export type Db = Database.Database

export interface StoreOptions {
  /** Path of the SQLite file, or ':memory:'. */
  file: string
  /** `full` survives power loss; `normal` (WAL) survives a crash or `kill -9` of the process. */
  synchronous: 'full' | 'normal'
}

/**
 * Opens Colony's one SQLite database: WAL mode, foreign keys on, numbered migrations applied in order, each in
 * its own transaction. Every write the API acknowledges is committed before it answers, so it survives `kill -9`.
 */
export function openDatabase (options: StoreOptions): Db {
  let db: Db
  try {
    db = new Database(options.file)
  } catch (err) {
    throw new ColonyError('data_dir_unusable', `cannot open the database ${options.file}: ${(err as Error).message}`, { cause: err })
  }
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  migrate(db)
  return db
}

/**
 * Applies the migrations `db` has not had yet. `migrations` is every one this Colony knows; a test passes the first
 * few to leave a data dir as an older Colony did.
 */
export function migrate (db: Db, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)')
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version))
  const latest = Math.max(0, ...migrations.map((m) => m.version))
  const newest = Math.max(0, ...applied)
  if (newest > latest) {
    throw new ColonyError('data_dir_unusable', `the database is at schema version ${newest}, newer than this Colony knows (${latest})`)
  }
  let count = 0
  for (const m of migrations) {
    if (applied.has(m.version)) continue
    db.transaction(() => {
      db.exec(m.sql)
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now())
    })()
    count++
  }
  return count
}
