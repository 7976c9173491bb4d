import { ms, section, text, type SettingsOf } from '../settings.js'

/** Notification channels: the key their secrets are encrypted with, and how long one delivery attempt may take. */
export const channelSettings = section('channels', {
  /**
   * AES-256-GCM key for every channel config value at rest, 64 hex characters (Wrenn's WRENN_ENCRYPTION_KEY).
   * Empty: generated on first start into `<data.dir>/channels.key` (mode 0600) and read from there afterwards.
   */
  encryptionKey: text('', { optional: true, secret: true, pattern: /^([0-9a-fA-F]{64})?$/, hint: 'empty (generated) or 64 hex characters' }),
  /** One delivery attempt (connect, send, answer) longer than this is a failure (Wrenn: 10 s). */
  deliveryTimeoutMs: ms(10_000, 100, 600_000),
})
export type ChannelSettings = SettingsOf<typeof channelSettings>
