import assert from 'node:assert/strict'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { del, get, post } from '../helpers/http.js'

describe('actor lifecycle over REST and MQTT', () => {
  let colony: TestColony
  let mqtt: Recorder
  let api: string

  beforeEach(async () => {
    colony = await startColony()
    api = `${colony.rt.urls.http}/api`
    mqtt = await connect(colony.rt.urls.mqtt)
    await mqtt.subscribe('agents/#', 'system/#')
  })
  afterEach(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  async function spawnEcho (name: string): Promise<string> {
    const res = await post(`${api}/actors`, { kind: 'echo', name })
    assert.equal(res.status, 201, JSON.stringify(res.body))
    assert.equal(res.body.state, 'running')
    return res.body.id as string
  }

  it('spawning at run time announces on agents/{id}/spawn and system/spawn', async () => {
    const id = await spawnEcho('e1')
    const spawn = await mqtt.next((m) => m.topic === `agents/${id}/spawn`)
    assert.deepEqual({ ...spawn.json, timestampMs: 0 }, { agentId: id, agentName: 'e1', agentType: 'echo', timestampMs: 0 })
    const sys = await mqtt.next((m) => m.topic === 'system/spawn' && m.json?.agentId === id)
    assert.equal(sys.json.agentName, 'e1')
    assert.match(id, /^[0-9A-Z]{8}-[0-9a-f]{8}$/)
  })

  it('pause -> paused in REST and on the status topic; messages sent while paused run after resume, in order', async () => {
    const id = await spawnEcho('e1')
    const paused = await post(`${api}/actors/e1/pause`)
    assert.equal(paused.status, 200)
    assert.equal(paused.body.state, 'paused')
    assert.equal((await get(`${api}/actors/${id}`)).body.state, 'paused')
    const status = await mqtt.next((m) => m.topic === `agents/${id}/status` && m.json?.state === 'paused')
    assert.equal(status.retain, false, 'a live status message is not flagged retained to an existing subscriber')

    const from = mqtt.mark
    for (const n of [1, 2, 3]) {
      const res = await post(`${api}/chat`, { to: 'e1', content: `message ${n}` })
      assert.equal(res.status, 202)
    }
    const queued = await get(`${api}/actors/e1`)
    assert.equal(queued.body.mailboxDepth, 3, 'the three messages wait in the mailbox')
    assert.equal(mqtt.on(`agents/${id}/chat`, from).length, 0)

    const resumed = await post(`${api}/actors/e1/resume`)
    assert.equal(resumed.body.state, 'running')
    await mqtt.next((m) => m.topic === `agents/${id}/chat` && m.json?.content === 'message 3', { from })
    const replies = mqtt.on(`agents/${id}/chat`, from).map((m) => m.json.content)
    assert.deepEqual(replies, ['message 1', 'message 2', 'message 3'])
    await mqtt.next((m) => m.topic === `agents/${id}/status` && m.json?.state === 'running', { from })
  })

  it('pause and delete of a protected actor -> 403 actor_protected, and it keeps running', async () => {
    for (const [method, path] of [['POST', 'main-actor/pause'], ['DELETE', 'main-actor'], ['POST', 'io-agent/pause'], ['DELETE', 'rest-bridge']]) {
      const res = method === 'POST' ? await post(`${api}/actors/${path}`) : await del(`${api}/actors/${path}`)
      assert.equal(res.status, 403, `${method} ${path}`)
      assert.equal(res.body.error.code, 'actor_protected')
      assert.match(res.body.error.message, /protected/)
    }
    const main = await get(`${api}/actors/main-actor`)
    assert.equal(main.body.state, 'running')
  })

  it('an MQTT command to a protected actor is ignored and an alert explains why', async () => {
    const from = mqtt.mark
    await mqtt.publish('agents/main-actor/commands', { command: 'pause' })
    const alert = await mqtt.next((m) => m.topic === 'agents/main-actor/alert', { from })
    assert.equal(alert.json.severity, 'warning')
    assert.equal(alert.json.code, 'actor_protected')
    assert.match(alert.json.message, /pause refused: main-actor is protected/)
    assert.equal((await get(`${api}/actors/main-actor`)).body.state, 'running')
  })

  it('MQTT commands pause, resume, stop and delete a user actor', async () => {
    const id = await spawnEcho('e1')
    let from = mqtt.mark
    await mqtt.publish(`agents/${id}/commands`, { command: 'pause' })
    await mqtt.next((m) => m.topic === `agents/${id}/status` && m.json?.state === 'paused', { from })
    await mqtt.publish(`agents/${id}/commands`, { command: 'resume' })
    await mqtt.next((m) => m.topic === `agents/${id}/status` && m.json?.state === 'running', { from })
    await mqtt.publish(`agents/${id}/commands`, { command: 'stop' })
    await mqtt.next((m) => m.topic === `agents/${id}/status` && m.json?.state === 'stopped', { from })
    assert.equal((await get(`${api}/actors/${id}`)).body.state, 'stopped', 'a stopped actor stays listed until deleted')
    from = mqtt.mark
    await mqtt.publish(`agents/${id}/commands`, { command: 'delete' })
    await mqtt.next((m) => m.topic === `agents/${id}/status` && m.payload.length === 0, { from })
    assert.equal((await get(`${api}/actors/${id}`)).status, 404)
  })

  it('DELETE -> 200, then GET -> 404; the actor never comes back and stops beating', async () => {
    const id = await spawnEcho('e1')
    await mqtt.next((m) => m.topic === `agents/${id}/heartbeat`)
    const res = await del(`${api}/actors/e1`)
    assert.equal(res.status, 200)
    assert.equal(res.body.state, 'stopped')
    const from = mqtt.mark
    assert.equal((await get(`${api}/actors/e1`)).status, 404)
    assert.equal((await get(`${api}/actors/${id}`)).body.error.code, 'actor_not_found')
    // Five more main-actor beats (a full second at 200 ms) and not one from the deleted actor.
    let mark = from
    for (let i = 0; i < 5; i++) mark = (await mqtt.next((m) => m.topic === 'agents/main-actor/heartbeat', { from: mark })).index + 1
    assert.equal(mqtt.on(`agents/${id}/heartbeat`, from).length, 0)
    const list = (await get(`${api}/actors`)).body as Array<{ id: string }>
    assert.equal(list.some((a) => a.id === id), false)
    // A new subscriber sees no retained trace of it.
    const late = await connect(colony.rt.urls.mqtt)
    try {
      await late.subscribe(`agents/${id}/#`, 'agents/main-actor/status')
      await late.next((m) => m.topic === 'agents/main-actor/status')
      assert.equal(late.received.filter((m) => m.topic.startsWith(`agents/${id}/`)).length, 0)
    } finally {
      await late.close()
    }
  })

  it('a clean stop is not a crash: the supervisor does not restart it', async () => {
    const id = await spawnEcho('e1')
    const from = mqtt.mark
    await colony.rt.system.stop('e1')
    await colony.rt.actors.settled()
    const info = colony.rt.system.get(id)
    assert.equal(info?.state, 'stopped')
    assert.equal(info?.restarts, 0)
    assert.equal(mqtt.on(`agents/${id}/alert`, from).length, 0)
  })

  it('REST errors: unknown actor 404, resume of a stopped actor 409, unknown /api route 404 JSON, wrong method 405', async () => {
    assert.equal((await post(`${api}/actors/nobody/pause`)).body.error.code, 'actor_not_found')
    assert.equal((await del(`${api}/actors/nobody`)).status, 404)
    await spawnEcho('e1')
    await colony.rt.system.stop('e1')
    const resume = await post(`${api}/actors/e1/resume`)
    assert.equal(resume.status, 409)
    assert.equal(resume.body.error.code, 'actor_invalid_state')
    const unknown = await get(`${api}/nothing/here`)
    assert.equal(unknown.status, 404)
    assert.equal(unknown.body.error.code, 'route_not_found')
    const wrong = await post(`${api}/actors/e1`)
    assert.equal(wrong.status, 405)
    assert.equal(wrong.body.error.code, 'method_not_allowed')
  })
})
