import { text } from '../notification.js'
import { JSON_HEADERS, type Provider } from './types.js'

/**
 * A Slack incoming webhook: `POST {webhook_url}` with `text` (the notification fallback) and one `section` block
 * carrying the same line as mrkdwn. Slack answers `200 ok`.
 */
export const slack: Provider = {
  name: 'slack',
  required: ['webhook_url'],
  optional: [],
  urls: ['webhook_url'],
  request: (config, { notification: n }) => {
    const line = text(n)
    return {
      method: 'POST',
      url: config.webhook_url as string,
      headers: JSON_HEADERS,
      body: JSON.stringify({ text: line, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: line } }] }),
    }
  },
}
