import { int, oneOf, section, type SettingsOf } from '../settings.js'

/** Which sandbox runs capsules; wasmrun sessions on top of them: how many may live at once and how long an unused one lives. */
export const capsuleSettings = section('capsules', {
  /** `namespace` (bubblewrap + overlayfs + cgroups) or `wasi` (WebAssembly modules only, for hosts without namespaces). */
  driver: oneOf(['namespace', 'wasi'], 'namespace'),
  /** A new session beyond this is 429 session_limit (wasmrun's --max-sessions; 0: no limit). */
  maxSessions: int(100, { min: 0, max: 100_000 }),
  /** A session unused for this long is gone: 410 session_expired, then 404 (wasmrun's --timeout). */
  sessionIdleSec: int(300, { min: 1, max: 30 * 86_400 }),
})
export type CapsuleSettings = SettingsOf<typeof capsuleSettings>
