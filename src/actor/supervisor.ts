import type { Clock } from '../clock.js'
import type { Logger } from '../log.js'
import type { SupervisorSpec } from './types.js'
import type { ActorCell } from './cell.js'
import { affectedMembers, RestartBudget } from './restart-policy.js'

export interface SupervisorEvents {
  restarted(cell: ActorCell, reason: string): void
  gaveUp(cell: ActorCell, reason: string): void
}

/**
 * A supervisor group with an Erlang-style strategy and restart intensity:
 * - `one_for_one`: only the crashed actor restarts;
 * - `one_for_all`: every live member stops and restarts, in start order;
 * - `rest_for_one`: the crashed actor and those started after it restart.
 * More than `maxRestarts` restarts within `restartWindowMs` and the group gives up: the affected actors end
 * `failed` and stay so. A clean stop or delete is never a crash and never restarted. Crashes are handled one at
 * a time, in the order they happen, so a restart never races another.
 */
export class Supervisor {
  private readonly members: ActorCell[] = []
  private readonly budget: RestartBudget
  private queue: Promise<void> = Promise.resolve()
  private closing = false

  constructor (
    readonly spec: SupervisorSpec,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly events: SupervisorEvents,
  ) {
    this.budget = new RestartBudget(spec, clock)
  }

  add (cell: ActorCell): void {
    this.members.push(cell)
  }

  remove (cell: ActorCell): void {
    const i = this.members.indexOf(cell)
    if (i !== -1) this.members.splice(i, 1)
  }

  /** Shutdown: crashes from now on are not restarted. */
  close (): void {
    this.closing = true
  }

  /** Waits for crash handling in progress (tests and shutdown). */
  settled (): Promise<void> {
    return this.queue
  }

  crashed (cell: ActorCell): void {
    this.queue = this.queue.then(() => this.handle(cell)).catch((err: unknown) => {
      this.log.error({ err, actor: cell.name }, 'supervisor failed while handling a crash')
    })
  }

  private async handle (cell: ActorCell): Promise<void> {
    if (this.closing || cell.givenUp || cell.state !== 'failed' || !this.members.includes(cell)) return
    const affected = affectedMembers(this.spec.strategy, this.members, cell)
    const reason = errorText(cell.lastError)
    if (!this.budget.take()) {
      const why = `${cell.name} crashed (${reason}); more than ${this.spec.maxRestarts} restarts within ` +
        `${this.spec.restartWindowMs} ms, supervisor ${this.spec.id} (${this.spec.strategy}) gave up`
      for (const member of affected) {
        member.giveUp(why)
        this.events.gaveUp(member, why)
      }
      return
    }
    // The group goes down newest first, then comes back in start order, as an Erlang supervisor does.
    for (const member of [...affected].reverse()) await member.suspend()
    for (const member of affected) {
      if (this.closing) return
      const why = member === cell ? `crashed: ${reason}` : `restarted with ${cell.name} (${this.spec.strategy}): ${reason}`
      if (await member.restartNow()) this.events.restarted(member, why)
    }
  }
}

function errorText (err: unknown): string {
  if (err instanceof Error) return err.message.slice(0, 200)
  return String(err).slice(0, 200)
}
