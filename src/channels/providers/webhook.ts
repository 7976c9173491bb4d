import { DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign } from '../signing.js'
import { JSON_HEADERS, type Provider } from './types.js'

/**
 * Wrenn's webhook: `POST {url}` with the event as JSON, signed with the channel's secret (see signing.ts) when it
 * has one; the timestamp is this attempt's (Unix seconds), the delivery id the same on every attempt.
 */
export const webhook: Provider = {
  name: 'webhook',
  required: ['url'],
  optional: ['secret'],
  urls: ['url'],
  request: (config, { id, notification, nowMs }) => {
    const body = JSON.stringify(notification)
    const timestamp = String(Math.floor(nowMs / 1000))
    const headers: Record<string, string> = { ...JSON_HEADERS, [TIMESTAMP_HEADER]: timestamp, [DELIVERY_HEADER]: id }
    if (config.secret !== undefined && config.secret !== '') headers[SIGNATURE_HEADER] = sign(config.secret, timestamp, body)
    return { method: 'POST', url: config.url as string, headers, body }
  },
}
