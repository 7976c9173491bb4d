import { text } from '../notification.js'
import { webhookUrlProvider } from './types.js'

/**
 * A Slack incoming webhook: `POST {webhook_url}` with `text` (the notification fallback) and one `section` block
 * carrying the same line as mrkdwn. Slack answers `200 ok`.
 */
export const slack = webhookUrlProvider('slack', (n) => {
  const line = text(n)
  return { text: line, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: line } }] }
})
