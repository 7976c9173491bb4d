import { text } from '../notification.js'
import { JSON_HEADERS, type Provider } from './types.js'
import { trimSlash } from './telegram.js'

/**
 * Matrix's client-server API: `PUT {homeserver_url}/_matrix/client/v3/rooms/{room_id}/send/m.room.message/{txnId}`
 * with the access token as a bearer and an `m.text` body. The transaction id is the delivery id, so a retried
 * attempt is the same event to the homeserver (it deduplicates by txnId), never a second message.
 */
export const matrix: Provider = {
  name: 'matrix',
  required: ['homeserver_url', 'access_token', 'room_id'],
  optional: [],
  urls: ['homeserver_url'],
  request: (config, { id, notification: n }) => ({
    method: 'PUT',
    url: `${trimSlash(config.homeserver_url as string)}/_matrix/client/v3/rooms/${encodeURIComponent(config.room_id as string)}/send/m.room.message/${encodeURIComponent(id)}`,
    headers: { ...JSON_HEADERS, Authorization: `Bearer ${config.access_token as string}` },
    body: JSON.stringify({ msgtype: 'm.text', body: text(n) }),
  }),
}
