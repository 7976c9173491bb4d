import { severityOf, text, title } from '../notification.js'
import { webhookUrlProvider } from './types.js'

/** Embed colours by severity (Discord takes a decimal RGB integer). */
const COLOURS = { info: 0x3498db, warning: 0xf1c40f, error: 0xe67e22, critical: 0xe74c3c }

/**
 * Discord's "Execute Webhook": `POST {webhook_url}` with `content` (at most 2 000 characters) and an embed with the
 * same line as its description, coloured by severity. A 204 is success.
 */
export const discord = webhookUrlProvider('discord', (n) => ({
  content: text(n),
  embeds: [{ title: title(n), description: text(n), color: COLOURS[severityOf(n)], timestamp: n.timestamp }],
}))
