import type { Severity } from '../wire/payloads.js'

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
