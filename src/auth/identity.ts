import type { Role } from '../store/teams.js'

/**
 * Who is asking. One model for every door: a Wrenn API key, a Golem bearer token, an MQTT password and a
 * `/ws` token all resolve to an Identity.
 */
export interface Identity {
  /** `local`: no credentials, accepted only while every listener is on loopback (development mode). */
  kind: 'user' | 'api_key' | 'local'
  userId: string
  email: string
  name: string
  /** The active team: the JWT's `team_id`, or the team an API key belongs to. */
  teamId: string
  isAdmin: boolean
  /** Set for API keys: revoking the key ends every session that used it. */
  keyId?: string
  /** Set for JWTs: sessions end when the token expires. */
  expiresAtMs?: number
  /** The teams whose actors this identity may see and steer (a JWT: the user's teams; a key: its team). */
  teams: ReadonlySet<string>
}

export type { Role }

/** May `who` see and steer an actor owned by `team` (null: a system actor, visible to everyone)? */
export function canAccess (who: Identity | undefined, team: string | null): boolean {
  if (who === undefined || who.isAdmin || team === null) return true
  return who.teams.has(team)
}

export interface AuthResponse {
  token: string
  user_id: string
  team_id: string
  email: string
  name: string
}
