import { int, ms, section, type SettingsOf } from '../settings.js'

/** Durable workers: how long an idle one stays in memory, how often it is snapshotted, the connect stream's keepalive. */
export const workerSettings = section('workers', {
  /** A worker without calls for this long leaves memory; its next call brings it back from its oplog. */
  idleMs: ms(60_000, 50, 86_400_000),
  /** Oplog entries between two snapshots of a worker whose component exports save-snapshot and load-snapshot. */
  snapshotEvery: int(1000, { min: 1, max: 10_000_000 }),
  /** Golem pings a connect stream every 30 s and closes it after 15 s without a pong. */
  connectPingMs: ms(30_000, 10, 3_600_000),
  connectPongTimeoutMs: ms(15_000, 10, 3_600_000),
})
export type WorkerSettingsSection = SettingsOf<typeof workerSettings>
