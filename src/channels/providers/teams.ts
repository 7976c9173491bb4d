import { text, title } from '../notification.js'
import { JSON_HEADERS, type Provider } from './types.js'

/**
 * A Microsoft Teams webhook (a Workflows "post to a channel when a webhook request is received" URL, or a legacy
 * incoming webhook): `POST {webhook_url}` with a `message` whose one attachment is an Adaptive Card — the shape
 * both accept (the old MessageCard is refused by Workflows).
 */
export const teams: Provider = {
  name: 'teams',
  required: ['webhook_url'],
  optional: [],
  urls: ['webhook_url'],
  request: (config, { notification: n }) => ({
    method: 'POST',
    url: config.webhook_url as string,
    headers: JSON_HEADERS,
    body: JSON.stringify({
      type: 'message',
      attachments: [{
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', size: 'Medium', weight: 'Bolder', text: title(n), wrap: true },
            { type: 'TextBlock', text: text(n), wrap: true },
          ],
        },
      }],
    }),
  }),
}
