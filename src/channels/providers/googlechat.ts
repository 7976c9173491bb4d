import { text } from '../notification.js'
import { webhookUrlProvider } from './types.js'

/** A Google Chat space webhook: `POST {webhook_url}` (it carries its key and token in the query) with `{text}`. */
export const googlechat = webhookUrlProvider('googlechat', (n) => ({ text: text(n) }), { 'Content-Type': 'application/json; charset=UTF-8' })
