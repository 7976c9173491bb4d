import { text } from '../notification.js'
import { JSON_HEADERS, type Provider } from './types.js'

export const TELEGRAM_API = 'https://api.telegram.org'

/**
 * The Telegram Bot API's sendMessage: `POST {api_url}/bot<bot_token>/sendMessage` with `{chat_id, text}`.
 * `api_url` (default https://api.telegram.org) is for a self-hosted Bot API server, or a test receiver.
 */
export const telegram: Provider = {
  name: 'telegram',
  required: ['bot_token', 'chat_id'],
  optional: ['api_url'],
  urls: ['api_url'],
  request: (config, { notification: n }) => ({
    method: 'POST',
    url: `${trimSlash(config.api_url ?? TELEGRAM_API)}/bot${config.bot_token as string}/sendMessage`,
    headers: JSON_HEADERS,
    body: JSON.stringify({ chat_id: config.chat_id, text: text(n) }),
  }),
}

export function trimSlash (url: string): string {
  return url.replace(/\/+$/, '')
}
