import { isIP } from 'node:net'
import { bool, host, int, ms, port, section, show, text, type SettingsOf } from '../settings.js'

/** The HTTP server that REST, `/ws` and MQTT-over-WebSocket share. */
export const httpSettings = section('http', {
  host: host('127.0.0.1'),
  port: port(8080),
  bodyLimitBytes: int(1_048_576, { min: 1024, max: 1 << 30 }),
  trustProxy: bool(false),
  /** Comma-separated IP addresses of the reverse proxy: only these peers may send X-Forwarded-* (with trustProxy). */
  proxyAddresses: text('127.0.0.1,::1,::ffff:127.0.0.1'),
  /** A request's headers must arrive within this (from the connection, or the end of the previous response). */
  headersTimeoutMs: ms(30_000, 100, 600_000),
  /** A request's body must arrive within this, counted from the end of its headers. */
  bodyTimeoutMs: ms(60_000, 100, 3_600_000),
}, (http, problems) => {
  const proxies = http.proxyAddresses
  if (typeof proxies === 'string' && proxies !== '') {
    const bad = proxies.split(',').map((a) => a.trim()).filter((a) => isIP(a) === 0)
    if (bad.length > 0) problems.push(`http.proxyAddresses must be comma-separated IP addresses (not ${bad.map(show).join(', ')})`)
  }
})
export type HttpSettings = SettingsOf<typeof httpSettings>
