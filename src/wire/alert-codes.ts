/**
 * Stable `code`s of alerts (the `code` field of an `agents/{id}/alert` payload) that bridges and kernel parts
 * raise, so subscribers can match on them. Listed in the README next to the topic table.
 */
export const ALERT_CODES = {
  /** ws-bridge: /ws clients are over their byte budget and losing frames (one alert per episode). */
  wsSlowConsumer: 'ws_slow_consumer',
} as const
