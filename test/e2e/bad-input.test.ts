import assert from 'node:assert/strict'
import { WebSocket } from 'ws'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { get, post, request } from '../helpers/http.js'
import { gate, TEST_KINDS } from '../helpers/kinds.js'

describe('bad input is refused clearly and harms nothing', () => {
  let colony: TestColony
  let watcher: Recorder
  let api: string

  before(async () => {
    colony = await startColony({ kinds: TEST_KINDS, config: { http: { bodyLimitBytes: 4096 }, actors: { mailboxCapacity: 3 } } })
    api = `${colony.rt.urls.http}/api`
    watcher = await connect(colony.rt.urls.mqtt)
    await watcher.subscribe('agents/#', 'system/violations')
  })
  after(async () => {
    await watcher?.close()
    await colony?.close()
  })
  afterEach(async () => {
    const health = await get(`${api}/health`)
    assert.equal(health.status, 200, 'the runtime is still healthy')
    assert.equal(health.body.status, 'ok')
  })

  /** A client publishing something that gets it disconnected; resolves when the broker closed the connection. */
  async function publishAndExpectDisconnect (topic: string, payload: string | Buffer, retain = false): Promise<void> {
    const bad = await connect(colony.rt.urls.mqtt)
    const closed = new Promise<void>((resolve) => bad.client.once('close', () => resolve()))
    bad.client.publish(topic, payload, { qos: 0, retain })
    await closed
    await bad.close()
  }

  it('non-JSON and wrongly typed messages on io/chat -> io-agent error alerts with codes', async () => {
    const from = watcher.mark
    await watcher.publish('io/chat', 'this is not json')
    const alert = await watcher.next((m) => m.topic === 'agents/io-agent/alert', { from })
    assert.equal(alert.json.severity, 'error')
    assert.equal(alert.json.code, 'wire_invalid_json')
    await watcher.publish('io/chat', { content: 42 })
    const typed = await watcher.next((m) => m.topic === 'agents/io-agent/alert' && m.json.code === 'wire_invalid_payload', { from })
    assert.match(typed.json.message, /content must be a string/)
  })

  it('unknown, malformed and misdirected MQTT commands -> error alerts; nothing changes', async () => {
    const { id } = await colony.rt.system.spawn('echo', { name: 'target' })
    const from = watcher.mark
    await watcher.publish(`agents/${id}/commands`, { command: 'explode' })
    const unknown = await watcher.next((m) => m.topic === `agents/${id}/alert` && m.json.code === 'wire_unknown_command', { from })
    assert.equal(unknown.json.severity, 'error')
    assert.match(unknown.json.message, /unknown command "explode"/)
    await watcher.publish(`agents/${id}/commands`, '{pause')
    await watcher.next((m) => m.topic === `agents/${id}/alert` && m.json.code === 'wire_invalid_json', { from })
    await watcher.publish('agents/ghost/commands', { command: 'pause' })
    await watcher.next((m) => m.topic === 'agents/ghost/alert' && m.json.code === 'actor_not_found', { from })
    assert.equal(colony.rt.system.get(id)?.state, 'running')
    await colony.rt.system.remove(id)
  })

  it('a 1 MiB payload: the client is disconnected, qa-agent raises an error alert, others carry on', async () => {
    const from = watcher.mark
    await publishAndExpectDisconnect('io/chat', Buffer.alloc(1024 * 1024, 'a'))
    const violation = await watcher.next((m) => m.topic === 'system/violations', { from })
    assert.equal(violation.json.code, 'wire_payload_too_large')
    const alert = await watcher.next((m) => m.topic === 'agents/qa-agent/alert' && m.json.code === 'wire_payload_too_large', { from })
    assert.equal(alert.json.severity, 'error')
    assert.match(alert.json.message, /exceeds the limit of 262144 bytes/)
    // The watcher, connected all along, still works end to end.
    await watcher.publish('io/chat', { id: 'after-big', from: 'tester', content: 'help' })
    await watcher.next((m) => m.json?.inReplyTo === 'after-big', { from })
  })

  it('spoofing another actor\'s heartbeat, status or spawn is refused, alerted by qa-agent, and changes nothing', async () => {
    for (const channel of ['heartbeat', 'status', 'spawn', 'alert']) {
      const from = watcher.mark
      await publishAndExpectDisconnect(`agents/main-actor/${channel}`, JSON.stringify({ agentId: 'main-actor', state: 'failed' }), true)
      const alert = await watcher.next((m) => m.topic === 'agents/qa-agent/alert' && m.json.code === 'spoofing', { from, what: `${channel} spoof alert` })
      assert.equal(alert.json.severity, 'error')
      assert.equal(alert.json.targetId, 'main-actor')
      assert.match(alert.json.message, new RegExp(`agents/main-actor/${channel} \\(spoofing main-actor\\)`))
      assert.equal(watcher.on(`agents/main-actor/${channel}`, from).filter((m) => m.json?.state === 'failed').length, 0)
    }
    const late = await connect(colony.rt.urls.mqtt)
    try {
      await late.subscribe('agents/main-actor/status')
      const status = await late.next((m) => m.topic === 'agents/main-actor/status')
      assert.equal(status.json.state, 'running', 'the retained status was not overwritten')
    } finally {
      await late.close()
    }
  })

  it('publishing on $SYS/ or system/ is refused', async () => {
    for (const topic of ['$SYS/colony/x', 'system/health']) {
      const from = watcher.mark
      await publishAndExpectDisconnect(topic, '{}')
      const v = await watcher.next((m) => m.topic === 'system/violations' && m.json.topic === topic, { from })
      assert.equal(v.json.code, 'publish_refused')
    }
  })

  it('a credential in chat -> qa-agent warning that names the kind but never repeats the secret', async () => {
    const secret = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'
    const from = watcher.mark
    await watcher.publish('io/chat', { from: 'tester', content: `my token is ${secret}` })
    const alert = await watcher.next((m) => m.topic === 'agents/qa-agent/alert' && m.json.code === 'credential_in_chat', { from })
    assert.equal(alert.json.severity, 'warning')
    assert.match(alert.json.message, /JWT/)
    assert.ok(!alert.payload.toString().includes(secret))
    assert.ok(!JSON.stringify(colony.logs).includes(secret.split('.')[2] as string), 'not in any log line either')
  })

  it('REST: malformed JSON 400, too large 413, wrong type 415, non-object 400, each with a code', async () => {
    const cases: Array<[string, number, string, Record<string, string>?]> = [
      ['{"to": "main-actor", "content": ', 400, 'invalid_json'],
      ['[1, 2, 3]', 400, 'invalid_body'],
      ['', 400, 'invalid_body'],
      [JSON.stringify({ to: 'main-actor', content: 'x'.repeat(8000) }), 413, 'body_too_large'],
      ['<chat/>', 415, 'unsupported_media_type', { 'content-type': 'application/xml' }],
    ]
    for (const [body, status, code, headers] of cases) {
      const res = await request('POST', `${api}/chat`, body, { 'content-type': 'application/json', ...headers })
      assert.equal(res.status, status, body.slice(0, 40))
      assert.equal(res.body.error.code, code)
      assert.equal(typeof res.body.error.message, 'string')
    }
    const logged = colony.logs.filter((l) => l.msg === 'request refused' && l.status === 413)
    assert.ok(logged.length > 0, 'refusals are logged')
  })

  it('REST spawn: unknown kind, protected kind, bad names, taken name', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ kind: 'nope' }, 400, 'actor_kind_unknown'],
      [{ kind: 'main' }, 400, 'actor_kind_unknown'],
      [{ kind: 'echo', name: 'has space' }, 400, 'actor_name_invalid'],
      [{ kind: 'echo', name: 'ünïcödé' }, 400, 'actor_name_invalid'],
      [{ kind: 'echo', name: "x'; DROP TABLE actors;--" }, 400, 'actor_name_invalid'],
      [{ kind: 'echo', name: 'n'.repeat(65) }, 400, 'invalid_body'],
      [{ kind: 42 }, 400, 'invalid_body'],
      [{ kind: 'echo', name: 'main-actor' }, 409, 'actor_name_taken'],
    ]
    for (const [body, status, code] of cases) {
      const res = await post(`${api}/actors`, body)
      assert.equal(res.status, status, JSON.stringify(body))
      assert.equal(res.body.error.code, code, JSON.stringify(body))
    }
    assert.equal((await get(`${api}/actors`)).body.length, colony.rt.system.list().length)
  })

  it('a full mailbox rejects with 503 mailbox_full and one warning alert, and accepts again once drained', async () => {
    const { id } = await colony.rt.system.spawn('blocking', { name: 'busy' })
    const from = watcher.mark
    // One message is being handled (blocked), three wait: the mailbox (capacity 3) is full.
    for (let i = 0; i < 4; i++) assert.equal((await post(`${api}/chat`, { to: 'busy', content: `m${i}` })).status, 202)
    for (let i = 0; i < 3; i++) {
      const res = await post(`${api}/chat`, { to: 'busy', content: 'overflow' })
      assert.equal(res.status, 503)
      assert.equal(res.body.error.code, 'mailbox_full')
    }
    const alert = await watcher.next((m) => m.topic === `agents/${id}/alert` && m.json.code === 'mailbox_full', { from })
    assert.equal(alert.json.severity, 'warning')
    for (let i = 0; i < 4; i++) {
      gate.release()
      await watcher.next((m) => m.topic === `agents/${id}/chat` && m.json.content === `done m${i}`, { from })
    }
    assert.equal(watcher.on(`agents/${id}/alert`, from).length, 1, 'one alert for the whole episode')
    assert.equal((await post(`${api}/chat`, { to: 'busy', content: 'later' })).status, 202)
    gate.release()
    await watcher.next((m) => m.topic === `agents/${id}/chat` && m.json.content === 'done later', { from })
    await colony.rt.system.remove(id)
  })

  it('a WebSocket upgrade on an unknown path gets a JSON 404', async () => {
    const { status, body } = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const ws = new WebSocket(`${colony.rt.urls.http.replace('http', 'ws')}/not-a-socket`)
      ws.on('unexpected-response', (_req, res) => {
        let text = ''
        res.on('data', (c: Buffer) => { text += c.toString() })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      })
      ws.on('open', () => { ws.close(); reject(new Error('upgraded on an unknown path')) })
      ws.on('error', () => undefined)
    })
    assert.equal(status, 404)
    assert.equal(JSON.parse(body).error.code, 'route_not_found')
  })
})
