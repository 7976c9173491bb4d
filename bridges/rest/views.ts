import type { ApiKey } from '../../src/index.js'

/** Wrenn's APIKeyResponse, without the plaintext (which only the creation response adds). */
export function apiKeyView (k: ApiKey): Record<string, unknown> {
  return {
    id: k.id,
    team_id: k.teamId,
    name: k.name,
    key_prefix: k.keyPrefix,
    created_at: new Date(k.createdAtMs).toISOString(),
    last_used: k.lastUsedMs === null ? null : new Date(k.lastUsedMs).toISOString(),
  }
}
