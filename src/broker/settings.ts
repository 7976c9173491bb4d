import { bool, host, int, port, section, urlPath, type SettingsOf } from '../settings.js'

/** The embedded MQTT broker: its TCP listener, MQTT-over-WebSocket path and limits. */
export const mqttSettings = section('mqtt', {
  host: host('127.0.0.1'),
  port: port(1883),
  wsPath: urlPath('/mqtt'),
  maxPacketBytes: int(262_144, { min: 1024, max: 256 * 1024 * 1024 }),
  maxInflightPublishes: int(1000, { min: 10, max: 1_000_000 }),
  persistRetained: bool(true),
})
export type MqttSettings = SettingsOf<typeof mqttSettings>
