import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { get } from '../helpers/http.js'

describe('ha-map-agent and GET /ha-map', () => {
  let colony: TestColony
  let mqtt: Recorder

  beforeEach(async () => {
    colony = await startColony({ config: { haMap: { debounceMs: 20 } } })
    mqtt = await connect(colony.rt.urls.mqtt)
    await mqtt.subscribe('system/ha-map', 'agents/ha-map-agent/alert')
  })
  afterEach(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  const sensor = {
    name: 'Living room temperature',
    uniq_id: 'lr-temp-1',
    stat_t: 'home/lr/temp',
    dev_cla: 'temperature',
    unit_of_meas: '°C',
    dev: { ids: ['esp-lr'], name: 'Living room ESP', mf: 'Espressif', mdl: 'ESP32', sw: '1.2.3' },
  }

  /** Publishes discovery messages and waits for the map snapshot that reflects them. */
  async function discover (messages: Array<[string, unknown]>, settled: (map: any) => boolean): Promise<any> {
    const from = mqtt.mark
    for (const [topic, payload] of messages) {
      await mqtt.publish(topic, payload === '' ? '' : JSON.stringify(payload), { retain: true })
    }
    const update = await mqtt.next((m) => m.topic === 'system/ha-map' && settled(m.json), { from, what: 'a map update' })
    return update.json
  }

  it('404 with the seed body until the first snapshot, then the map in the seed shape', async () => {
    const before = await get(`${colony.rt.urls.http}/ha-map`)
    assert.equal(before.status, 404)
    assert.deepEqual(before.body, { error: 'Home Assistant map snapshot not available' })

    await discover([
      ['homeassistant/sensor/esp-lr/temp/config', sensor],
      ['homeassistant/sensor/esp-lr/humidity/config', { name: 'Humidity', uniq_id: 'lr-hum-1', stat_t: 'home/lr/hum', dev: { ids: ['esp-lr'] } }],
      ['homeassistant/switch/lamp/config', { name: 'Lamp', cmd_t: 'home/lamp/set' }],
    ], (map) => map.devices.reduce((n: number, d: any) => n + d.entities.length, 0) === 3)

    const res = await get(`${colony.rt.urls.http}/ha-map`)
    assert.equal(res.status, 200)
    const map = res.body
    assert.equal(map.type, 'home_assistant_map_update')
    assert.equal(map.event_type, 'entity_registry_updated')
    assert.equal(typeof map.timestamp, 'number')
    assert.ok(map.timestamp > 1e9 && map.timestamp < 1e11, 'seconds, like the seed')
    const esp = map.devices.find((d: any) => d.id === 'esp-lr')
    assert.equal(esp.name, 'Living room ESP')
    assert.equal(esp.manufacturer, 'Espressif')
    assert.equal(esp.sw_version, '1.2.3')
    assert.deepEqual(esp.entities.map((e: any) => e.entity_id).sort(), ['sensor.humidity', 'sensor.temp'])
    const temp = esp.entities.find((e: any) => e.entity_id === 'sensor.temp')
    assert.equal(temp.unit_of_measurement, '°C')
    assert.equal(temp.device_class, 'temperature')
    assert.equal(temp.state_topic, 'home/lr/temp')
    const lamp = map.devices.find((d: any) => d.standalone === true)
    assert.equal(lamp.entities[0].entity_id, 'switch.lamp')
    assert.equal(lamp.entities[0].command_topic, 'home/lamp/set')
  })

  it('an empty payload removes an entity; device-based discovery adds several', async () => {
    await discover([['homeassistant/sensor/esp-lr/temp/config', sensor]], (m) => m.devices.length === 1)
    const removed = await discover([['homeassistant/sensor/esp-lr/temp/config', '']], (m) => m.devices.length === 0)
    assert.equal(removed.event.action, 'remove')
    assert.deepEqual(removed.event.entity_ids, ['sensor.temp'])
    const multi = await discover([['homeassistant/device/pump1/config', {
      dev: { ids: 'pump-1', name: 'Pump' },
      o: { name: 'test' },
      cmps: { flow: { p: 'sensor', name: 'Flow', uniq_id: 'pump1-flow' }, power: { p: 'switch', name: 'Power', cmd_t: 'pump/set' } },
    }]], (m) => m.devices.length === 1 && m.devices[0].entities.length === 2)
    assert.deepEqual(multi.devices[0].entities.map((e: any) => e.entity_id).sort(), ['sensor.flow', 'switch.power'])
  })

  it('bad discovery payloads raise an error alert and leave the map as it was', async () => {
    await discover([['homeassistant/sensor/esp-lr/temp/config', sensor]], (m) => m.devices.length === 1)
    const from = mqtt.mark
    await mqtt.publish('homeassistant/sensor/x/config', 'not json')
    await mqtt.publish('homeassistant/sensor/y/config', '[1,2]')
    const alerts = [
      await mqtt.next((m) => m.topic === 'agents/ha-map-agent/alert' && m.json.topic === 'homeassistant/sensor/x/config', { from }),
      await mqtt.next((m) => m.topic === 'agents/ha-map-agent/alert' && m.json.topic === 'homeassistant/sensor/y/config', { from }),
    ]
    for (const a of alerts) assert.equal(a.json.severity, 'error')
    const res = await get(`${colony.rt.urls.http}/ha-map`)
    assert.equal(res.body.devices.length, 1)
  })

  it('a restarted agent rebuilds the same map from retained discovery configs', async () => {
    await discover([['homeassistant/sensor/esp-lr/temp/config', sensor]], (m) => m.devices.length === 1)
    const from = mqtt.mark
    // Crash the agent through the kernel (it is protected from users): the supervisor restarts it.
    const cell = colony.rt.actors.resolve('ha-map-agent')
    cell?.crash(new Error('test crash'))
    await colony.rt.actors.settled()
    assert.equal(colony.rt.system.get('ha-map-agent')?.restarts, 1)
    const rebuilt = await mqtt.next((m) => m.topic === 'system/ha-map', { from })
    assert.deepEqual(rebuilt.json.devices.map((d: any) => d.id), ['esp-lr'])
  })
})
