import type { Clock } from '../clock.js'
import type { SupervisorSpec } from './types.js'

/** What a supervisor needs to know of a member to decide who restarts with it. */
export interface Member {
  /** Running, paused or starting: neither cleanly stopped nor given up. */
  readonly live: boolean
}

/**
 * The members a strategy restarts when `crashed` fails, in start order (`members` is in start order).
 * Cleanly stopped members are left alone; the crashed one is always included.
 * - `one_for_one`: only the crashed member;
 * - `one_for_all`: every live member;
 * - `rest_for_one`: the crashed member and the live ones started after it.
 */
export function affectedMembers<M extends Member> (strategy: SupervisorSpec['strategy'], members: readonly M[], crashed: M): M[] {
  switch (strategy) {
    case 'one_for_one':
      return [crashed]
    case 'one_for_all':
      return members.filter((m) => m === crashed || m.live)
    case 'rest_for_one': {
      const index = members.indexOf(crashed)
      return members.filter((m, i) => m === crashed || (i > index && m.live))
    }
  }
}

/**
 * Restart intensity, as in Erlang: at most `maxRestarts` restarts within any `restartWindowMs`. Asked at each
 * crash; a crash past the budget means give up (and is not counted).
 */
export class RestartBudget {
  private times: number[] = []

  constructor (private readonly spec: Pick<SupervisorSpec, 'maxRestarts' | 'restartWindowMs'>, private readonly clock: Clock) {}

  /** True (and the restart is counted) when one more restart fits in the window; false: give up. */
  take (): boolean {
    const now = this.clock.now()
    this.times = this.times.filter((t) => t > now - this.spec.restartWindowMs)
    if (this.times.length >= this.spec.maxRestarts) return false
    this.times.push(now)
    return true
  }
}
