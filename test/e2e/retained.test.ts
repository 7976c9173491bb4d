/**
 * Retained messages clients publish are acknowledged state (a QoS 1 PUBACK says the broker has it): they are in
 * SQLite before the broker takes them and come back after a restart. The runtime's own `agents/` and `system/`
 * retained topics are rebuilt by the runtime and never come back from disk.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { get } from '../helpers/http.js'

const sensor = {
  name: 'Kitchen temperature',
  uniq_id: 'kitchen-temp-1',
  stat_t: 'home/kitchen/temp',
  dev_cla: 'temperature',
  dev: { ids: ['esp-kitchen'], name: 'Kitchen ESP' },
}

describe('retained messages survive a restart', function () {
  this.timeout(30_000)
  let dir: string
  let colony: TestColony | undefined
  const clients: Recorder[] = []

  const start = async (config: Record<string, Record<string, unknown>> = {}): Promise<TestColony> => {
    colony = await startColony({ config: { ...config, data: { dir } } })
    return colony
  }
  const client = async (c: TestColony): Promise<Recorder> => {
    const r = await connect(c.rt.urls.mqtt)
    clients.push(r)
    return r
  }
  const restart = async (config?: Record<string, Record<string, unknown>>): Promise<TestColony> => {
    await Promise.all(clients.splice(0).map((r) => r.close()))
    await colony?.close()
    return await start(config)
  }

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'colony-retained-')) })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((r) => r.close()))
    await colony?.close()
    colony = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  it('discovery and device state come back (the last value of each topic; cleared topics stay cleared); actors\' retained topics do not', async () => {
    let c = await start()
    const pub = await client(c)
    const qos1 = { qos: 1 as const, retain: true }
    await pub.client.publishAsync('homeassistant/sensor/esp-kitchen/temp/config', JSON.stringify(sensor), qos1)
    await pub.client.publishAsync('home/kitchen/temp', '21.5', { qos: 0, retain: true })
    await pub.client.publishAsync('home/kitchen/temp', '22.0', qos1)
    await pub.client.publishAsync('home/clear-me', 'soon gone', qos1)
    await pub.client.publishAsync('home/clear-me', '', qos1)
    await pub.client.publishAsync('home/not-retained', 'live only', { qos: 1 })
    // The runtime's own spawn (not a user's, which would be restored with fresh retained topics).
    const echo = await c.rt.system.spawnInternal('echo', { name: 'retained-echo' })
    assert.deepEqual(c.rt.identity.store.retained.all().map((m) => [m.topic, m.payload.toString()]),
      [['home/kitchen/temp', '22.0'], ['homeassistant/sensor/esp-kitchen/temp/config', JSON.stringify(sensor)]], 'stored by the time of the PUBACK')

    c = await restart()
    const sub = await client(c)
    await sub.subscribe('home/#', 'homeassistant/#', `agents/${echo.id}/#`)
    const temp = await sub.next((m) => m.topic === 'home/kitchen/temp', { what: 'the retained temperature' })
    assert.deepEqual([temp.payload.toString(), temp.retain], ['22.0', true])
    const config = await sub.next((m) => m.topic === 'homeassistant/sensor/esp-kitchen/temp/config', { what: 'the retained discovery config' })
    assert.deepEqual(config.json, sensor)
    // A marker published after the subscription: everything retained was delivered before it.
    await sub.client.publishAsync('home/marker', 'x', { qos: 1 })
    await sub.next((m) => m.topic === 'home/marker', { what: 'the marker' })
    assert.deepEqual(sub.received.map((m) => m.topic).sort(), ['home/kitchen/temp', 'home/marker', 'homeassistant/sensor/esp-kitchen/temp/config'],
      'no cleared topic, no plain publish, no retained status of an actor from the last run')
    // ha-map-agent rebuilt its map from the restored discovery config.
    const map = await waitFor(async () => {
      const res = await get(`${c.rt.urls.http}/ha-map`)
      return res.status === 200 && res.body.devices.some((d: any) => d.id === 'esp-kitchen') ? res.body : undefined
    }, sub, 'system/ha-map')
    assert.ok(map.devices.some((d: any) => d.id === 'esp-kitchen'))
  })

  it('many retained publishes at once are committed in groups, each acknowledged after its commit; the last value wins', async () => {
    const c = await start()
    const pub = await client(c)
    const journal = c.rt.broker.retainedJournal
    assert.ok(journal !== undefined)
    const commits = journal.commits
    await Promise.all(Array.from({ length: 300 }, (_, i) =>
      pub.client.publishAsync(`devices/d${i % 100}/state`, JSON.stringify({ round: Math.floor(i / 100) }), { qos: 1, retain: true })))
    const rows = c.rt.identity.store.retained.all()
    assert.equal(rows.length, 100)
    assert.ok(rows.every((r) => JSON.parse(r.payload.toString()).round === 2), 'every topic holds its last value')
    assert.ok(journal.commits - commits < 300, `grouped: ${journal.commits - commits} commits for 300 messages`)
    const metrics = await (await fetch(`${c.rt.urls.http}/metrics`)).text()
    assert.equal(Number(/^colony_mqtt_retained_stored_total (\d+)$/m.exec(metrics)?.[1]), journal.written)
    assert.equal(Number(/^colony_mqtt_retained_commits_total (\d+)$/m.exec(metrics)?.[1]), journal.commits)
  })

  it('a retained publish that cannot be stored is not acknowledged: the client is disconnected, nothing is delivered', async () => {
    const c = await start()
    // A store that refuses this one topic, as a full disk would refuse everything.
    c.rt.identity.store.db.exec(`CREATE TRIGGER refuse_topic BEFORE INSERT ON retained_messages WHEN NEW.topic = 'home/unstorable'
      BEGIN SELECT RAISE(ABORT, 'disk full'); END`)
    const watcher = await client(c)
    await watcher.subscribe('home/#')
    const pub = await client(c)
    const closed = new Promise<void>((resolve) => pub.client.once('close', () => resolve()))
    pub.client.publish('home/unstorable', 'x', { qos: 1, retain: true })
    await closed
    assert.equal(c.rt.identity.store.retained.all().length, 0)
    assert.ok(c.logs.some((l) => l.msg === 'could not store retained messages; their publishers are disconnected'))
    const other = await client(c)
    await other.client.publishAsync('home/fine', 'y', { qos: 1, retain: true })
    await watcher.next((m) => m.topic === 'home/fine')
    assert.deepEqual(watcher.received.map((m) => m.topic), ['home/fine'], 'the refused message reached no one')
    assert.deepEqual(c.rt.identity.store.retained.all().map((m) => m.topic), ['home/fine'])
  })

  it('with mqtt.persistRetained false they live in memory only', async () => {
    let c = await start({ mqtt: { persistRetained: false } })
    const pub = await client(c)
    await pub.client.publishAsync('home/volatile', 'x', { qos: 1, retain: true })
    assert.deepEqual(c.rt.identity.store.retained.all(), [])
    c = await restart({ mqtt: { persistRetained: false } })
    const sub = await client(c)
    await sub.subscribe('home/#')
    await sub.client.publishAsync('home/marker', 'x', { qos: 1 })
    await sub.next((m) => m.topic === 'home/marker')
    assert.deepEqual(sub.received.map((m) => m.topic), ['home/marker'])
  })
})

/** Polls `probe` each time `topic` is published (no sleeping): resolves with its first defined answer. */
async function waitFor<T> (probe: () => Promise<T | undefined>, recorder: Recorder, topic: string): Promise<T> {
  await recorder.subscribe(topic)
  for (let from = 0; ; from = recorder.mark) {
    const found = await probe()
    if (found !== undefined) return found
    await recorder.next((m) => m.topic === topic && m.index >= from, { from, what: topic })
  }
}
