import { text } from '../notification.js'
import type { Provider } from './types.js'

/** A Google Chat space webhook: `POST {webhook_url}` (it carries its key and token in the query) with `{text}`. */
export const googlechat: Provider = {
  name: 'googlechat',
  required: ['webhook_url'],
  optional: [],
  urls: ['webhook_url'],
  request: (config, { notification: n }) => ({
    method: 'POST',
    url: config.webhook_url as string,
    headers: { 'Content-Type': 'application/json; charset=UTF-8' },
    body: JSON.stringify({ text: text(n) }),
  }),
}
