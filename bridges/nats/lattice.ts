import type { Identity } from '../../src/index.js'
import type { NatsContext } from './deps.js'
import type { NatsLink } from './connection.js'
import type { EventPublisher } from './events.js'
import type { LatticeHost } from './host.js'
import type { Reply } from './wire.js'

/** What every control handler works with. */
export interface Lattice {
  readonly ctx: NatsContext
  readonly host: LatticeHost
  readonly events: EventPublisher
  readonly link: NatsLink
  /** `{ctlPrefix}.v1.{lattice}` */
  readonly prefix: string
  /**
   * Who the lattice acts as in Colony: the platform admin. As in wasmCloud, NATS credentials are the lattice's
   * security boundary; whoever may publish on the control subjects may steer the hosts.
   */
  who(): Identity
  /** Runs follow-up work after the reply was sent (scales, starts): failures are logged, never thrown. */
  later(what: string, work: () => Promise<void>): void
}

/** A control handler: the request's body (parsed) and the subject's tokens after the prefix. No reply: undefined. */
export type Handler = (body: Record<string, unknown>, tokens: string[]) => Reply | undefined | Promise<Reply | undefined>

/** Components in the lattice live in this Golem environment of the admin's team. */
export const LATTICE_ENV = 'default'
