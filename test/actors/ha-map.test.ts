import assert from 'node:assert/strict'
import { haMapKind } from '../../actors/ha-map.js'
import { ALERT_CODES } from '../../src/wire/alert-codes.js'
import { topics } from '../../src/wire/topics.js'
import type { Behaviour, ChatMessage } from '../../src/actor/types.js'
import { fakeContext } from '../helpers/actor-context.js'

const DEBOUNCE_MS = 500

/** An ha-map instance on a fake context: discovery messages go straight to `receive`, time is manual. */
function haMap (maxEntities = 100) {
  const { ctx, clock, record } = fakeContext({ discoveryPrefix: 'homeassistant', debounceMs: DEBOUNCE_MS, maxEntities })
  const behaviour: Behaviour = haMapKind.create(ctx, {})
  const discover = (topic: string, payload: unknown): void => {
    const bytes = payload === '' ? Buffer.alloc(0) : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload))
    void behaviour.receive?.({ type: 'mqtt', topic, payload: bytes, retain: true, qos: 0, clientId: 'ha', identity: undefined })
  }
  /** Lets the debounce run out and delivers its timer message: the maps published at that point. */
  const tick = (ms = DEBOUNCE_MS): Array<Record<string, unknown>> => {
    clock.advance(ms)
    for (const message of record.due.splice(0)) void behaviour.receive?.(message)
    return record.published.splice(0).filter((p) => p.topic === topics.systemHaMap).map((p) => {
      assert.equal(p.retain, true, 'the map is published retained')
      return p.payload as Record<string, unknown>
    })
  }
  const chat = (content: string): unknown => behaviour.chat?.({ type: 'chat', content } as ChatMessage)
  return { behaviour, clock, record, discover, tick, chat }
}

const sensor = (id: string, device?: Record<string, unknown>): Record<string, unknown> =>
  ({ name: id, uniq_id: `u-${id}`, stat_t: `home/${id}`, ...(device !== undefined && { dev: device }) })

type Device = { id: string, entities: Array<{ entity_id: string }> } & Record<string, unknown>
const devicesOf = (map: Record<string, unknown> | undefined): Device[] => (map?.devices ?? []) as Device[]

describe('actors/ha-map: the Home Assistant map, on a fake context', () => {
  it('subscribes to everything under the configured discovery prefix on start', () => {
    const m = haMap()
    void m.behaviour.start?.()
    assert.deepEqual(m.record.subscriptions, ['homeassistant/#'])
  })

  it('debounces: a burst of changes is one publish after debounceMs, with the last change and the count', () => {
    const m = haMap()
    m.discover('homeassistant/sensor/temp/config', sensor('temp'))
    m.clock.advance(DEBOUNCE_MS - 1)
    m.discover('homeassistant/sensor/hum/config', sensor('hum'))
    assert.deepEqual(m.tick(0), [], 'nothing before the first change is debounceMs old')
    const [map, more] = m.tick(1)
    assert.equal(more, undefined, 'one publish for the burst')
    assert.equal(map?.type, 'home_assistant_map_update')
    assert.equal(map?.timestamp, m.clock.now() / 1000)
    assert.deepEqual(map?.event, { action: 'create', discovery_topic: 'homeassistant/sensor/hum/config', entity_ids: ['sensor.hum'], changes: 2 })
    assert.deepEqual(m.tick(10 * DEBOUNCE_MS), [], 'no change, no publish')
  })

  it('groups entities by device, sorted by device id, filling in device detail a later config adds', () => {
    const m = haMap()
    m.discover('homeassistant/sensor/b1/config', sensor('b1', { ids: 'dev-b', name: null }))
    m.discover('homeassistant/sensor/a1/config', sensor('a1', { ids: ['dev-a'], mf: 'Acme' }))
    m.discover('homeassistant/switch/b2/config', sensor('b2', { ids: 'dev-b', name: 'Boiler', mdl: 'B-2' }))
    const devices = devicesOf(m.tick()[0])
    assert.deepEqual(devices.map((d) => d.id), ['dev-a', 'dev-b'])
    assert.deepEqual(devices[1]?.entities.map((e) => e.entity_id), ['sensor.b1', 'switch.b2'])
    assert.equal(devices[1]?.name, 'Boiler')
    assert.equal(devices[1]?.model, 'B-2')
    assert.equal(devices[0]?.manufacturer, 'Acme')
  })

  it('an empty retained payload removes the config; the same topic again is an update', () => {
    const m = haMap()
    m.discover('homeassistant/sensor/t/config', sensor('t'))
    m.tick()
    m.discover('homeassistant/sensor/t/config', { ...sensor('t'), obj_id: 'renamed' })
    assert.deepEqual(m.tick()[0]?.event, { action: 'update', discovery_topic: 'homeassistant/sensor/t/config', entity_ids: ['sensor.renamed'], changes: 1 })
    m.discover('homeassistant/sensor/t/config', '')
    const removed = m.tick()[0]
    assert.deepEqual(removed?.event, { action: 'remove', discovery_topic: 'homeassistant/sensor/t/config', entity_ids: ['sensor.renamed'], changes: 1 })
    assert.deepEqual(devicesOf(removed), [])
    m.discover('homeassistant/sensor/t/config', '')
    assert.deepEqual(m.tick(), [], 'removing what is not there is no change')
  })

  it('ignores topics outside discovery and alerts on a bad payload without changing the map', () => {
    const m = haMap()
    m.discover('homeassistant/sensor/t/state', sensor('t'))
    m.discover('homeassistant/sensor/bad.level/config', sensor('t'))
    m.discover('homeassistant/sensor/t/config', '{not json')
    m.discover('homeassistant/sensor/u/config', '[1, 2]')
    assert.deepEqual(m.tick(), [])
    assert.deepEqual(m.record.alerts.map((a) => [a.severity, a.extra.code, a.extra.topic]), [
      ['error', 'wire_invalid_payload', 'homeassistant/sensor/t/config'],
      ['error', 'wire_invalid_payload', 'homeassistant/sensor/u/config'],
    ])
    assert.match(m.record.alerts[1]?.message ?? '', /must be a JSON object/)
  })

  it('stops at maxEntities with one alert, counting an update by its growth only', () => {
    const m = haMap(2)
    m.discover('homeassistant/sensor/a/config', sensor('a'))
    m.discover('homeassistant/sensor/b/config', sensor('b'))
    m.discover('homeassistant/sensor/c/config', sensor('c'))
    m.discover('homeassistant/sensor/d/config', sensor('d'))
    m.discover('homeassistant/sensor/b/config', { ...sensor('b'), name: 'still one entity' })
    const devices = devicesOf(m.tick()[0])
    const entities = devices.flatMap((d) => d.entities) as Array<{ entity_id: string, name: string }>
    assert.deepEqual(entities.map((e) => e.entity_id).sort(), ['sensor.a', 'sensor.b'])
    assert.equal(entities.find((e) => e.entity_id === 'sensor.b')?.name, 'still one entity', 'an update that adds no entity fits a full map')
    assert.deepEqual(m.record.alerts.map((a) => a.extra.code), [ALERT_CODES.haMapFull])
    assert.match(m.chat('summary') as string, /^2 devices, 2 entities from 2 discovery configs$/)
    assert.deepEqual(m.behaviour.heartbeat?.(), { entities: 2, discoveryConfigs: 2 })
  })

  it('chat: summary counts, anything else prints its help', () => {
    const m = haMap()
    assert.equal(m.chat('summary'), '0 devices, 0 entities from 0 discovery configs')
    assert.match(m.chat('what') as string, /^ha-map-agent understands:\nhelp — this text\nsummary/)
  })
})
