import { EventEmitter } from 'node:events'

/** What other parts of the runtime must react to: sessions to close, actors to stop, caches to drop. */
export interface AuthEventMap {
  /** API keys that stopped existing (deleted, or their team was deleted): close their sessions now. */
  keysRevoked: [keyIds: string[]]
  /** A team was deleted: its actors go too. */
  teamDeleted: [teamId: string]
  /** Someone joined, left or changed role: team sets cached per user are stale. */
  membershipChanged: [userId: string]
}

export class AuthEvents extends EventEmitter<AuthEventMap> {}
