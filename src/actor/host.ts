import type { Clock } from '../clock.js'
import type { ColonyConfig } from '../config.js'
import type { Logger } from '../log.js'
import type { Bus } from '../broker/bus.js'
import type { Severity, WireState } from '../wire/payloads.js'
import type { AlertFields } from '../wire/alert-codes.js'
import type { SystemApi } from './types.js'
import type { Services } from '../services.js'
import type { ActorCell } from './cell.js'

/** Counters the metrics endpoint reads; plain numbers, bumped on hot paths. */
export interface KernelCounters {
  messagesProcessed: number
  mailboxRejected: number
  restarts: number
  giveUps: number
  heartbeatsPublished: number
  heartbeatsSkipped: number
  /** Beats postponed (and coalesced) because the bus was saturated. */
  heartbeatsDeferred: number
  alerts: Record<Severity, number>
}

export function newCounters (): KernelCounters {
  return {
    messagesProcessed: 0,
    mailboxRejected: 0,
    restarts: 0,
    giveUps: 0,
    heartbeatsPublished: 0,
    heartbeatsSkipped: 0,
    heartbeatsDeferred: 0,
    alerts: { info: 0, warning: 0, error: 0, critical: 0 },
  }
}

/** What a cell needs from the system that owns it. */
export interface CellHost {
  readonly bus: Bus
  readonly clock: Clock
  readonly log: Logger
  readonly config: Readonly<ColonyConfig>
  readonly api: SystemApi
  readonly services: Services
  readonly counters: KernelCounters
  stateChanged(cell: ActorCell, previous: WireState, next: WireState): void
  alert(subjectId: string, severity: Severity, message: string, extra?: AlertFields): void
}
