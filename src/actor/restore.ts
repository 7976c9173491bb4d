import type { Logger } from '../log.js'
import type { ActorInfo } from './types.js'
import type { ActorSystem } from './system.js'
import type { SpawnMemory } from './spawn-memory.js'

/** Saved actors entered and started together; each batch is awaited before the next, so the registry keeps their order. */
const RESTORE_BATCH = 256

export interface RestoreReport {
  restored: number
  /** Kept for the next start: their kind is gone, their options unreadable, or their name taken. */
  failed: number
  /** Removed for good: their team was deleted (while the runtime was down, or just before a crash). */
  forgotten: number
  ms: number
}

/**
 * Brings back every actor users spawned at run time (start-up, after the system actors and before the listeners
 * open), in spawn order, with its id, name, team, options and the state the user last asked for. One that cannot
 * come back is logged and keeps its row, so a later start (with its kind back) tries again; one whose team no
 * longer exists is forgotten.
 */
export async function restoreSpawned (system: ActorSystem, memory: SpawnMemory, teamExists: (teamId: string) => boolean,
  log: Logger): Promise<RestoreReport> {
  const started = Date.now()
  const report: RestoreReport = { restored: 0, failed: 0, forgotten: 0, ms: 0 }
  const saved = memory.all()
  for (let i = 0; i < saved.length; i += RESTORE_BATCH) {
    await Promise.all(saved.slice(i, i + RESTORE_BATCH).map(async (row): Promise<void> => {
      const about = { actorId: row.id, name: row.name, kind: row.kind, team: row.team }
      if (row.team !== null && !teamExists(row.team)) {
        memory.forget(row.id)
        report.forgotten++
        log.info(about, 'a spawned actor\'s team no longer exists: forgotten')
        return
      }
      let info: ActorInfo
      try {
        if (row.options === undefined) throw new Error('its saved options are not a JSON object')
        info = await system.restore({ ...row, options: row.options })
      } catch (err) {
        report.failed++
        log.warn({ ...about, err }, 'a spawned actor could not be restored')
        return
      }
      report.restored++
      if (info.state === 'failed') log.warn({ ...about, error: info.error }, 'a restored actor failed to start; its supervisor takes over')
    }))
  }
  report.ms = Date.now() - started
  if (saved.length > 0) log.info(report, 'spawned actors restored')
  return report
}
