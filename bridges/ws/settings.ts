import { int, ms, oneOf, section, urlPath, type SettingsOf } from '../../src/index.js'

/** The `/ws` stream's settings: its path, batching, and what happens to a client that cannot keep up. */
export const wsSettings = section('ws', {
  path: urlPath('/ws'),
  flushIntervalMs: int(10, { min: 0, max: 10_000 }),
  maxQueuedMessages: int(10_000, { min: 1, max: 10_000_000 }),
  maxQueuedBytes: int(1_048_576, { min: 4096, max: 1 << 30 }),
  slowClientTimeoutMs: ms(10_000, 100, 3_600_000),
  overflow: oneOf(['drop', 'close'], 'drop'),
}, (ws, problems, config) => {
  // Both are upgrade paths on the same HTTP server.
  if (config.mqtt?.wsPath !== undefined && config.mqtt.wsPath === ws.path) problems.push('mqtt.wsPath and ws.path must differ')
})
export type WsSettings = SettingsOf<typeof wsSettings>

declare module '../../src/index.js' {
  interface ColonyConfig { ws: WsSettings }
}
