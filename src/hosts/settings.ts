import { ms, section, text, type SettingsOf } from '../settings.js'

/**
 * Hosts (Wrenn): when a registered host counts as unreachable and offline; and, for a Colony that joins another as
 * its host (`colony --join URL --token T`), where it joins and how often it beats.
 */
export const hostSettings = section('hosts', {
  /** A host without a heartbeat for longer than this is unreachable (Wrenn: 90 s, three missed 30 s beats). */
  heartbeatTimeoutMs: ms(90_000, 1000),
  /** How often the monitor looks (Wrenn: 15 s). */
  checkIntervalMs: ms(15_000, 100, 600_000),
  /** An unreachable host silent this much longer is offline (Wrenn never writes offline; Colony does). */
  offlineAfterMs: ms(600_000, 1000, 30 * 86_400_000),
  /** How long a host JWT is valid (Wrenn: 7 days); a host refreshes it with its refresh token. */
  jwtTtlMs: ms(7 * 86_400_000, 60_000, 30 * 86_400_000),
  /** The Colony to join as a host (its base URL); empty: this Colony joins none. */
  join: text('', { optional: true, pattern: /^https?:\/\/\S+$/, hint: 'an http(s) URL' }),
  /** The one-time registration token for the first registration (later starts use the saved credentials). */
  joinToken: text('', { optional: true, secret: true, pattern: /^[0-9a-f]{64}$/, hint: '64 hex characters' }),
  /** The address the joined Colony calls this one on; empty: this Colony's own HTTP URL. */
  joinAddress: text('', { optional: true, pattern: /^https?:\/\/\S+$/, hint: 'an http(s) URL' }),
  /** How often a joined Colony beats (Wrenn's agent: 30 s). */
  joinHeartbeatMs: ms(30_000, 50, 600_000),
})
export type HostSettings = SettingsOf<typeof hostSettings>
