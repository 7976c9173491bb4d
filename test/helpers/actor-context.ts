import { ManualClock } from '../../src/clock.js'
import { createLogger } from '../../src/log.js'
import type { ActorContext, AlertExtra, CustomMessage, SystemApi } from '../../src/actor/types.js'
import type { Severity } from '../../src/wire/payloads.js'

/** What a behaviour did through its context, in order. */
export interface ContextRecord {
  published: Array<{ topic: string, payload: unknown, retain: boolean }>
  alerts: Array<{ severity: Severity, message: string, extra: AlertExtra }>
  subscriptions: string[]
  /** Messages `ctx.schedule` delivered when the manual clock reached them; `takeDue` hands them to the test. */
  due: CustomMessage[]
}

/**
 * An `ActorContext` for unit-testing an actor kind without a runtime or a broker: time is a `ManualClock`,
 * scheduled messages land in `record.due` when the clock passes them (the test hands them to `receive`), and
 * `system` is whatever part of the SystemApi the kind uses.
 */
export function fakeContext<Deps> (deps: Deps, system: Partial<SystemApi> = {}): { ctx: ActorContext<Deps>, clock: ManualClock, record: ContextRecord } {
  const clock = new ManualClock()
  const record: ContextRecord = { published: [], alerts: [], subscriptions: [], due: [] }
  const ctx: ActorContext<Deps> = {
    id: 'actor-under-test',
    name: 'actor-under-test',
    agentType: 'test',
    clock,
    log: createLogger({ level: 'silent' }),
    system: system as SystemApi,
    deps,
    publish: (topic, payload, options) => { record.published.push({ topic, payload, retain: options?.retain === true }) },
    subscribe: (filter) => {
      record.subscriptions.push(filter)
      return () => undefined
    },
    alert: (severity, message, extra = {}) => { record.alerts.push({ severity, message, extra }) },
    say: () => undefined,
    schedule: (ms, message) => clock.setTimeout(() => record.due.push(message), ms),
    cancel: (handle) => { clock.clearTimeout(handle) },
    fail: (err) => { throw err },
  }
  return { ctx, clock, record }
}
