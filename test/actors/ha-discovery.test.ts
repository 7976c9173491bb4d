import assert from 'node:assert/strict'
import { entitiesFrom, expand, parseDiscoveryTopic } from '../../actors/ha-discovery.js'

const P = 'homeassistant'

/** What ha-map does with a discovery message: parse the topic, expand the payload, extract entities. */
function discover (topic: string, payload: unknown): ReturnType<typeof entitiesFrom> {
  const where = parseDiscoveryTopic(P, topic)
  assert.ok(where !== undefined, `${topic} parses`)
  return entitiesFrom(topic, where, expand(payload) as Record<string, unknown>)
}

describe('Home Assistant discovery', () => {
  describe('parseDiscoveryTopic', () => {
    it('parses <prefix>/<component>/<object_id>/config', () => {
      assert.deepEqual(parseDiscoveryTopic(P, 'homeassistant/sensor/kitchen_temp/config'),
        { component: 'sensor', nodeId: undefined, objectId: 'kitchen_temp' })
    })

    it('parses <prefix>/<component>/<node_id>/<object_id>/config', () => {
      assert.deepEqual(parseDiscoveryTopic(P, 'homeassistant/binary_sensor/garden-node/motion/config'),
        { component: 'binary_sensor', nodeId: 'garden-node', objectId: 'motion' })
    })

    it('parses device-based discovery topics', () => {
      assert.deepEqual(parseDiscoveryTopic(P, 'homeassistant/device/0AFFD2/config'),
        { component: 'device', nodeId: undefined, objectId: '0AFFD2' })
    })

    it('uses the configured prefix', () => {
      assert.deepEqual(parseDiscoveryTopic('ha', 'ha/light/lamp/config'), { component: 'light', nodeId: undefined, objectId: 'lamp' })
      assert.equal(parseDiscoveryTopic('ha', 'homeassistant/light/lamp/config'), undefined)
    })

    for (const topic of [
      'other/sensor/temp/config', // wrong prefix
      'homeassistantx/sensor/temp/config',
      'homeassistant/sensor/temp/state', // not ending in config
      'homeassistant/sensor/temp/config/', // trailing level
      'homeassistant/sensor/temp', // too short
      'homeassistant/sensor/config',
      'homeassistant/config',
      'homeassistant/sensor/a/b/c/config', // too long
      'HomeAssistant/sensor/temp/config',
      '',
    ]) {
      it(`rejects ${JSON.stringify(topic)}`, () => { assert.equal(parseDiscoveryTopic(P, topic), undefined) })
    }

    it('rejects empty component, node_id or object_id levels', () => {
      assert.equal(parseDiscoveryTopic(P, 'homeassistant/sensor//config'), undefined)
      assert.equal(parseDiscoveryTopic(P, 'homeassistant//temp/config'), undefined)
      assert.equal(parseDiscoveryTopic(P, 'homeassistant/sensor//temp/config'), undefined)
    })
  })

  describe('expand', () => {
    it('expands abbreviated keys, including nested device keys', () => {
      assert.deepEqual(expand({
        name: 'Temperature',
        uniq_id: 'temp-1',
        obj_id: 'kitchen_temp',
        stat_t: 'home/kitchen/temp',
        cmd_t: 'home/kitchen/set',
        dev_cla: 'temperature',
        unit_of_meas: '°C',
        val_tpl: '{{ value_json.t }}',
        avty_t: 'home/kitchen/avail',
        dev: { ids: ['dev-1'], name: 'Kitchen', mf: 'Acme', mdl: 'T1000', sw: '1.2', hw: 'rev3', sa: 'Kitchen', via_dev: 'hub' },
      }), {
        name: 'Temperature',
        unique_id: 'temp-1',
        object_id: 'kitchen_temp',
        state_topic: 'home/kitchen/temp',
        command_topic: 'home/kitchen/set',
        device_class: 'temperature',
        unit_of_measurement: '°C',
        value_template: '{{ value_json.t }}',
        availability_topic: 'home/kitchen/avail',
        device: {
          identifiers: ['dev-1'], name: 'Kitchen', manufacturer: 'Acme', model: 'T1000', sw_version: '1.2', hw_version: 'rev3',
          suggested_area: 'Kitchen', via_device: 'hub',
        },
      })
    })

    it('keeps full and unknown keys as they are, and leaves scalars and null alone', () => {
      assert.deepEqual(expand({ state_topic: 's', x_custom: 1, device: null }), { state_topic: 's', x_custom: 1, device: null })
      assert.equal(expand('text'), 'text')
      assert.equal(expand(3), 3)
      assert.equal(expand(null), null)
    })

    it('expands inside arrays', () => {
      assert.deepEqual(expand([{ stat_t: 'a' }, { cmd_t: 'b' }]), [{ state_topic: 'a' }, { command_topic: 'b' }])
    })

    it('expands cmps values but keeps component keys (user ids) verbatim', () => {
      assert.deepEqual(expand({ cmps: { dev: { p: 'sensor', stat_t: 's' }, stat_t: { p: 'switch' } } }), {
        components: { dev: { platform: 'sensor', state_topic: 's' }, stat_t: { platform: 'switch' } },
      })
    })

    it('refuses a payload nested deeper than 32 levels with a clear error, not a stack overflow (issue 10 item 9)', () => {
      const deep = JSON.parse(`{"dev":${'['.repeat(100_000)}${']'.repeat(100_000)}}`) as unknown
      assert.throws(() => expand(deep), { message: 'discovery payload nests deeper than 32 levels' })
      const nested = JSON.parse(`{"cmps":{"a":{"x":${'['.repeat(29)}${']'.repeat(29)}}}}`) as unknown
      assert.doesNotThrow(() => expand(nested))
    })

    it('does not mutate its input', () => {
      const input = { dev: { ids: 'x' }, stat_t: 't' }
      const copy = structuredClone(input)
      expand(input)
      assert.deepEqual(input, copy)
    })
  })

  describe('entitiesFrom', () => {
    it('a normal sensor with a device', () => {
      const topic = 'homeassistant/sensor/kitchen_temp/config'
      const { entities, device } = discover(topic, {
        name: 'Kitchen Temperature', uniq_id: 'temp-1', stat_t: 'home/kitchen/temp', dev_cla: 'temperature', unit_of_meas: '°C',
        dev: { ids: ['acme-t1000-01', 'second-id'], name: 'Kitchen Sensor', mf: 'Acme', mdl: 'T1000', sw: '1.2' },
      })
      assert.deepEqual(entities, [{
        entity_id: 'sensor.kitchen_temp',
        name: 'Kitchen Temperature',
        component: 'sensor',
        unique_id: 'temp-1',
        device_class: 'temperature',
        unit_of_measurement: '°C',
        state_topic: 'home/kitchen/temp',
        command_topic: null,
        discovery_topic: topic,
        device_key: 'acme-t1000-01',
      }])
      assert.deepEqual(device, {
        id: 'acme-t1000-01', name: 'Kitchen Sensor', manufacturer: 'Acme', model: 'T1000', sw_version: '1.2', hw_version: null,
        identifiers: ['acme-t1000-01', 'second-id'], via_device: null, suggested_area: null, standalone: false,
      })
    })

    it('names the entity from object_id in the payload, slugged', () => {
      const { entities } = discover('homeassistant/light/x1/config', { obj_id: 'Living Room Lamp!', cmd_t: 'lamp/set' })
      assert.equal(entities[0]?.entity_id, 'light.living_room_lamp')
      assert.equal(entities[0]?.command_topic, 'lamp/set')
    })

    it('accepts a single identifier string and connections', () => {
      const one = discover('homeassistant/switch/s1/config', { dev: { ids: 'plug-7' } })
      assert.equal(one.device.id, 'plug-7')
      assert.deepEqual(one.device.identifiers, ['plug-7'])
      const conn = discover('homeassistant/switch/s2/config', { dev: { cns: [['mac', '02:5b:26:a8:dc:12']] } })
      assert.equal(conn.device.id, 'mac:02:5b:26:a8:dc:12')
      assert.equal(conn.device.standalone, false)
    })

    it('an entity without a device is standalone, keyed by node_id, then unique_id, then object_id', () => {
      const byObject = discover('homeassistant/sensor/outdoor/config', { name: 'Outdoor', stat_t: 'o/t' })
      assert.equal(byObject.device.standalone, true)
      assert.equal(byObject.device.id, 'standalone:outdoor')
      assert.deepEqual(byObject.device.identifiers, [])
      assert.equal(byObject.entities[0]?.device_key, 'standalone:outdoor')
      assert.equal(discover('homeassistant/sensor/outdoor/config', { uniq_id: 'u-9' }).device.id, 'standalone:u-9')
      assert.equal(discover('homeassistant/sensor/node-4/outdoor/config', { uniq_id: 'u-9' }).device.id, 'standalone:node-4')
    })

    it('device-based discovery yields one entity per component with a platform', () => {
      const topic = 'homeassistant/device/0AFFD2/config'
      const { entities, device } = discover(topic, {
        dev: { ids: '0AFFD2', name: 'Multi Sensor', mf: 'Bla electronics', mdl: 'xya', sw: '1.0', hw: '1.0rev2' },
        o: { name: 'bla2mqtt', sw: '2.1', url: 'https://bla2mqtt.example.com/support' },
        stat_t: 'sensorBedroom/state',
        cmps: {
          some_unique_component_id1: { p: 'sensor', dev_cla: 'temperature', unit_of_meas: '°C', val_tpl: '{{ value_json.temperature }}', uniq_id: 'temp01ae_t' },
          some_unique_id2: { p: 'sensor', dev_cla: 'humidity', unit_of_meas: '%', uniq_id: 'temp01ae_h' },
          bla_switch: { p: 'switch', name: 'Relay', cmd_t: 'sensorBedroom/relay/set', obj_id: 'bedroom_relay' },
          no_platform: { name: 'ignored' },
        },
        qos: 2,
      })
      assert.deepEqual(entities.map((e) => [e.entity_id, e.component, e.unique_id, e.device_class, e.unit_of_measurement]), [
        ['sensor.some_unique_component_id1', 'sensor', 'temp01ae_t', 'temperature', '°C'],
        ['sensor.some_unique_id2', 'sensor', 'temp01ae_h', 'humidity', '%'],
        ['switch.bedroom_relay', 'switch', null, null, null],
      ])
      assert.equal(entities[2]?.command_topic, 'sensorBedroom/relay/set')
      assert.ok(entities.every((e) => e.discovery_topic === topic && e.device_key === '0AFFD2'))
      assert.equal(device.name, 'Multi Sensor')
      assert.equal(device.hw_version, '1.0rev2')
      assert.equal(device.standalone, false)
    })

    it('device-based discovery: components inherit the shared state_topic and command_topic unless they override them', () => {
      const { entities } = discover('homeassistant/device/0AFFD2/config', {
        dev: { ids: '0AFFD2' },
        o: { name: 'bla2mqtt' },
        stat_t: 'sensorBedroom/state',
        cmd_t: 'sensorBedroom/set',
        cmps: {
          temp: { p: 'sensor', uniq_id: 't' },
          relay: { p: 'switch', uniq_id: 'r', cmd_t: 'sensorBedroom/relay/set' },
        },
      })
      assert.deepEqual(entities.map((e) => [e.entity_id, e.state_topic, e.command_topic]), [
        ['sensor.temp', 'sensorBedroom/state', 'sensorBedroom/set'],
        ['switch.relay', 'sensorBedroom/state', 'sensorBedroom/relay/set'],
      ])
    })

    it('device-based discovery with no components yields no entities', () => {
      assert.deepEqual(discover('homeassistant/device/d1/config', { dev: { ids: 'd1' } }).entities, [])
    })

    it('substitutes the ~ base topic in topic values', () => {
      const { entities } = discover('homeassistant/light/kitchen/config', {
        '~': 'homeassistant/light/kitchen', name: 'Kitchen', cmd_t: '~/set', stat_t: '~/state',
      })
      assert.equal(entities[0]?.state_topic, 'homeassistant/light/kitchen/state')
      assert.equal(entities[0]?.command_topic, 'homeassistant/light/kitchen/set')
    })
  })
})
