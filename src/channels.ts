/** The channels domain's public surface (Wrenn notification channels): the service every door uses, and what tests and receivers need to check them. */
export { ChannelService, type ActorLookup, type ChannelView, type CreateChannel } from './channels/service.js'
export { channelKey, SecretBox } from './channels/crypto.js'
export { DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify } from './channels/signing.js'
export { CHANNEL_EVENTS, COLONY_EVENTS, type ChannelEvent, type Notification } from './channels/notification.js'
export { PROVIDER_NAMES, type ProviderName } from './channels/providers/index.js'
export { MAX_ATTEMPTS, RETRY_DELAYS_MS } from './channels/dispatcher.js'
export type { AlertFilter } from './channels/filter.js'
