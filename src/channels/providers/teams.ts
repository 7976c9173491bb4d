import { text, title } from '../notification.js'
import { webhookUrlProvider } from './types.js'

/**
 * A Microsoft Teams webhook (a Workflows "post to a channel when a webhook request is received" URL, or a legacy
 * incoming webhook): `POST {webhook_url}` with a `message` whose one attachment is an Adaptive Card — the shape
 * both accept (the old MessageCard is refused by Workflows).
 */
export const teams = webhookUrlProvider('teams', (n) => ({
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
}))
