import type { Notification } from '../notification.js'

/** One HTTP request to a provider's API; the dispatcher sends it (timeout, no redirects, 2xx or failure). */
export interface OutgoingRequest {
  method: 'POST' | 'PUT'
  url: string
  headers: Record<string, string>
  body: string
}

/** One attempt of one delivery: the same `id` on every attempt (the idempotency key), `nowMs` is this attempt's. */
export interface Attempt {
  id: string
  notification: Notification
  nowMs: number
}

export interface Provider {
  name: string
  /** Config keys that must be given (non-empty). */
  required: readonly string[]
  /** Config keys that may be given (base URLs for self-hosted or test receivers, the webhook secret). */
  optional: readonly string[]
  /** Config keys that hold URLs (checked to be http or https). */
  urls: readonly string[]
  request: (config: Readonly<Record<string, string>>, attempt: Attempt) => OutgoingRequest
}

export const JSON_HEADERS = { 'Content-Type': 'application/json' }

/**
 * A chat service reached by one webhook URL (Discord, Slack, Teams, Google Chat): `POST {webhook_url}` with the JSON
 * that `payload` makes of the notification.
 */
export function webhookUrlProvider (name: string, payload: (n: Notification) => unknown, headers: Record<string, string> = JSON_HEADERS): Provider {
  return {
    name,
    required: ['webhook_url'],
    optional: [],
    urls: ['webhook_url'],
    request: (config, { notification }) => ({ method: 'POST', url: config.webhook_url as string, headers, body: JSON.stringify(payload(notification)) }),
  }
}
