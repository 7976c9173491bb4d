import assert from 'node:assert/strict'
import { startColony, SYSTEM_ACTORS, BRIDGE_ACTORS, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'

const AGENT_TYPES: Record<string, string> = {
  'main-actor': 'orchestrator',
  'io-agent': 'gateway',
  'monitor-agent': 'monitor',
  'qa-agent': 'qa',
  'ha-map-agent': 'home-assistant',
  'keyvalue-provider': 'provider',
  'messaging-provider': 'provider',
  'logging-provider': 'provider',
  'rest-bridge': 'bridge',
  'ws-bridge': 'bridge',
  'nats-bridge': 'bridge',
}

describe('fresh start', () => {
  let colony: TestColony
  let mqtt: Recorder

  before(async () => {
    colony = await startColony()
    mqtt = await connect(colony.rt.urls.mqtt)
    await mqtt.subscribe('agents/+/spawn', 'agents/+/status', 'agents/+/heartbeat')
  })
  after(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  for (const name of [...SYSTEM_ACTORS, ...BRIDGE_ACTORS]) {
    it(`${name}: retained spawn and status, then heartbeats, in the seed's shapes`, async () => {
      const spawn = await mqtt.next((m) => m.topic === `agents/${name}/spawn`, { what: `${name} spawn` })
      assert.equal(spawn.retain, true)
      assert.deepEqual(Object.keys(spawn.json).sort(), ['agentId', 'agentName', 'agentType', 'timestampMs'])
      assert.equal(spawn.json.agentId, name)
      assert.equal(spawn.json.agentName, name)
      assert.equal(spawn.json.agentType, AGENT_TYPES[name])
      assert.equal(typeof spawn.json.timestampMs, 'number')

      const status = await mqtt.next((m) => m.topic === `agents/${name}/status`, { what: `${name} status` })
      assert.equal(status.retain, true)
      assert.deepEqual(Object.keys(status.json).sort(), ['agentId', 'state', 'timestampMs'])
      assert.equal(status.json.state, 'running')

      const beat = await mqtt.next((m) => m.topic === `agents/${name}/heartbeat`, { what: `${name} heartbeat` })
      assert.equal(beat.json.agentId, name)
      assert.equal(beat.json.agentName, name)
      assert.equal(beat.json.state, 'running')
      assert.ok(Math.abs(beat.json.timestampMs - Date.now()) < 5000)
      assert.equal(typeof beat.json.mailboxDepth, 'number')
      assert.equal(typeof beat.json.messagesProcessed, 'number')
    })
  }

  it('GET /api/actors lists every system actor in the seed shape', async () => {
    const res = await fetch(`${colony.rt.urls.http}/api/actors`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /application\/json/)
    const actors = await res.json() as Array<Record<string, unknown>>
    assert.deepEqual(actors.map((a) => a.name).sort(), [...SYSTEM_ACTORS, ...BRIDGE_ACTORS].sort())
    for (const a of actors) {
      assert.equal(a.state, 'running')
      assert.equal(a.protected, true)
      assert.equal(a.agentType, AGENT_TYPES[a.name as string])
      assert.equal(typeof a.id, 'string')
    }
  })

  it('heartbeats keep coming at the configured interval', async () => {
    const from = mqtt.mark
    const first = await mqtt.next((m) => m.topic === 'agents/main-actor/heartbeat', { from })
    const second = await mqtt.next((m) => m.topic === 'agents/main-actor/heartbeat', { from: first.index + 1 })
    const gap = second.json.timestampMs - first.json.timestampMs
    assert.ok(gap >= 150 && gap <= 400, `gap between beats was ${gap} ms for a 200 ms interval`)
  })
})
