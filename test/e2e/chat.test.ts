import assert from 'node:assert/strict'
import { startColony, SYSTEM_ACTORS, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder, type Received } from '../helpers/mqtt.js'
import { post } from '../helpers/http.js'

describe('chat: io/chat @mention routing and main-actor commands', () => {
  let colony: TestColony
  let mqtt: Recorder
  let echoId: string

  before(async () => {
    colony = await startColony()
    mqtt = await connect(colony.rt.urls.mqtt)
    await mqtt.subscribe('agents/+/chat', 'agents/+/alert')
    echoId = (await colony.rt.system.spawn('echo', { name: 'echo-1' })).id
  })
  after(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  /** Publishes on io/chat and returns the replies addressed to `from` that refer to this message id. */
  async function say (content: string, id: string, from = 'tester'): Promise<Received> {
    await mqtt.publish('io/chat', { id, from, content, timestampMs: Date.now() })
    return await mqtt.next((m) => m.topic.endsWith('/chat') && m.json?.inReplyTo === id, { what: `reply to ${id}` })
  }

  it('@name rest forwards rest to that actor with its inner whitespace kept', async () => {
    const reply = await say('@echo-1   hello    big\n  world  ', 'm1')
    assert.equal(reply.topic, `agents/${echoId}/chat`)
    assert.equal(reply.json.from, 'echo-1')
    assert.equal(reply.json.to, 'tester')
    assert.equal(reply.json.content, 'hello    big\n  world')
    assert.deepEqual(Object.keys(reply.json).sort(), ['content', 'from', 'id', 'inReplyTo', 'timestampMs', 'to'])
  })

  it('a mention also works by id and with "@name:" punctuation', async () => {
    assert.equal((await say(`@${echoId} by id`, 'm2')).json.content, 'by id')
    assert.equal((await say('@echo-1: colon', 'm3')).json.content, 'colon')
  })

  it('no mention goes to main-actor', async () => {
    const reply = await say('agents', 'm4')
    assert.equal(reply.topic, 'agents/main-actor/chat')
    assert.equal(reply.json.from, 'main-actor')
    for (const name of [...SYSTEM_ACTORS, 'echo-1']) assert.match(reply.json.content, new RegExp(`${name} \\(`))
  })

  it('an unknown name gets exactly one reply, from io-agent, naming the known agents', async () => {
    const from = mqtt.mark
    const reply = await say('@nobody hi', 'm5')
    assert.equal(reply.topic, 'agents/io-agent/chat')
    assert.match(reply.json.content, /don't know @nobody/)
    for (const name of [...SYSTEM_ACTORS, 'echo-1']) assert.match(reply.json.content, new RegExp(`@${name}`))
    // A later message's reply is a barrier: by then any second reply to m5 would have arrived.
    await say('@echo-1 barrier', 'm5b')
    assert.equal(mqtt.received.filter((m) => m.index >= from && m.json?.inReplyTo === 'm5').length, 1)
  })

  it('empty content gets no reply; every other message exactly one', async () => {
    const from = mqtt.mark
    await mqtt.publish('io/chat', { id: 'empty-1', from: 'tester', content: '' })
    await mqtt.publish('io/chat', { id: 'empty-2', from: 'tester', content: '   \n\t ' })
    await say('@echo-1 one', 'm6')
    await say('status echo-1', 'm7')
    await say('@echo-1 two', 'm8')
    const replies = mqtt.received.filter((m) => m.index >= from && m.topic.endsWith('/chat')).map((m) => m.json.inReplyTo)
    assert.deepEqual(replies, ['m6', 'm7', 'm8'])
  })

  it('main-actor: help, status, unknown command, pause/resume of a user actor, refusal for a protected one', async () => {
    assert.match((await say('help', 'h1')).json.content, /agents — every actor/)
    assert.match((await say('status echo-1', 'h2')).json.content, /echo-1 \(echo, id .*\) is running; restarts 0/)
    const unknown = (await say('frobnicate now', 'h3')).json.content
    assert.match(unknown, /unknown command "frobnicate"/)
    assert.match(unknown, /help, agents, status/)
    assert.match((await say('pause echo-1', 'h4')).json.content, /echo-1 is paused/)
    assert.match((await say('resume echo-1', 'h5')).json.content, /echo-1 is running/)
    assert.match((await say('stop io-agent', 'h6')).json.content, /cannot stop io-agent: io-agent is protected/)
    assert.match((await say('status ghost', 'h7')).json.content, /no agent named "ghost"/)
  })

  it('main-actor spawns and deletes actors', async () => {
    assert.match((await say('kinds', 's1')).json.content, /echo \(echo\)/)
    assert.match((await say('spawn echo echo-2', 's2')).json.content, /spawned echo-2 \(echo, id .*\): running/)
    assert.equal((await say('@echo-2 hi', 's3')).json.content, 'hi')
    assert.match((await say('spawn echo echo-2', 's4')).json.content, /cannot spawn echo: an actor named "echo-2" already exists/)
    assert.match((await say('spawn main', 's5')).json.content, /cannot spawn main/)
    assert.match((await say('delete echo-2', 's6')).json.content, /echo-2 deleted/)
  })

  it('POST /api/chat: 202, the reply arrives on agents/{id}/chat; 400 on empty content; 404 on an unknown target', async () => {
    const res = await post(`${colony.rt.urls.http}/api/chat`, { to: 'echo-1', content: 'via rest' })
    assert.equal(res.status, 202)
    assert.equal(res.body.replyTopic, `agents/${echoId}/chat`)
    const reply = await mqtt.next((m) => m.json?.inReplyTo === res.body.id)
    assert.equal(reply.topic, `agents/${echoId}/chat`)
    assert.equal(reply.json.content, 'via rest')
    const toMain = await post(`${colony.rt.urls.http}/api/chat`, { content: 'agents' })
    assert.equal(toMain.body.to, 'main-actor')
    for (const body of [{ to: 'echo-1', content: '' }, { to: 'echo-1', content: '   ' }, { to: 'echo-1' }, { to: 'echo-1', content: 42 }, { to: 7, content: 'x' }]) {
      const bad = await post(`${colony.rt.urls.http}/api/chat`, body)
      assert.equal(bad.status, 400, JSON.stringify(body))
      assert.equal(bad.body.error.code, 'invalid_body')
    }
    const unknown = await post(`${colony.rt.urls.http}/api/chat`, { to: 'ghost', content: 'hi' })
    assert.equal(unknown.status, 404)
    assert.equal(unknown.body.error.code, 'actor_not_found')
  })

  it('POST /api/chat routes an @mention like io/chat; `to` wins over a mention; an unknown mention is 404', async () => {
    const url = `${colony.rt.urls.http}/api/chat`
    const routed = await post(url, { content: '@echo-1   spaced  words ' })
    assert.equal(routed.status, 202)
    assert.equal(routed.body.to, 'echo-1')
    assert.equal(routed.body.agentId, echoId)
    const reply = await mqtt.next((m) => m.json?.inReplyTo === routed.body.id)
    assert.equal(reply.topic, `agents/${echoId}/chat`)
    assert.equal(reply.json.content, 'spaced  words')

    const toMain = await post(url, { content: '@main-actor agents' })
    assert.equal(toMain.body.to, 'main-actor')
    assert.match((await mqtt.next((m) => m.json?.inReplyTo === toMain.body.id)).json.content, /echo-1 \(/)

    const both = await post(url, { to: 'echo-1', content: '@main-actor agents' })
    assert.equal(both.body.to, 'echo-1')
    assert.equal((await mqtt.next((m) => m.json?.inReplyTo === both.body.id)).json.content, '@main-actor agents')

    const unknown = await post(url, { content: '@nobody hi' })
    assert.equal(unknown.status, 404)
    assert.equal(unknown.body.error.code, 'actor_not_found')
    assert.match(unknown.body.error.message, /"nobody"/)
  })

  it('a POST /api/chat line also appears on io/chat naming its target, and io-agent does not route it again', async () => {
    const watcher = await connect(colony.rt.urls.mqtt)
    try {
      await watcher.subscribe('io/chat', 'agents/+/chat')
      const res = await post(`${colony.rt.urls.http}/api/chat`, { content: '@echo-1 once', from: 'rest-user' })
      const copy = await watcher.next((m) => m.topic === 'io/chat' && m.json?.id === res.body.id)
      assert.equal(copy.json.to, 'echo-1')
      assert.equal(copy.json.from, 'rest-user')
      assert.equal(copy.json.content, '@echo-1 once')
      await watcher.next((m) => m.json?.inReplyTo === res.body.id)
      // A later line's reply is a barrier: a second routing of the copy would have answered by then.
      await watcher.publish('io/chat', { id: 'copy-barrier', from: 'tester', content: '@echo-1 barrier' })
      await watcher.next((m) => m.json?.inReplyTo === 'copy-barrier')
      assert.equal(watcher.received.filter((m) => m.topic.endsWith('/chat') && m.json?.inReplyTo === res.body.id).length, 1)
    } finally {
      await watcher.close()
    }
  })

  it('a credential posted over REST raises the same credential_in_chat alert as on io/chat', async () => {
    const secret = `col_${'ab12'.repeat(8)}`
    const from = mqtt.mark
    const res = await post(`${colony.rt.urls.http}/api/chat`, { content: `@main-actor here is my key ${secret}` })
    assert.equal(res.status, 202)
    const alert = await mqtt.next((m) => m.topic === 'agents/qa-agent/alert' && m.json?.code === 'credential_in_chat', { from })
    assert.equal(alert.json.severity, 'warning')
    assert.match(alert.json.message, /on io\/chat contains what looks like a Colony API key/)
    assert.ok(!alert.payload.toString().includes(secret))
  })

  it('io-agent\'s "unknown @name" reply names the message it answers, with or without a request id', async () => {
    const withId = await say('@nobody-else hi', 'unknown-with-id')
    assert.equal(withId.topic, 'agents/io-agent/chat')
    await mqtt.publish('io/chat', { from: 'no-id-sender', content: '@nobody-else hi' })
    const withoutId = await mqtt.next((m) => m.topic === 'agents/io-agent/chat' && m.json?.to === 'no-id-sender')
    assert.equal(typeof withoutId.json.inReplyTo, 'string')
    assert.match(withoutId.json.content, /don't know @nobody-else/)
  })

  it('chat published by a client on agents/{id}/chat reaches the actor', async () => {
    await mqtt.publish(`agents/${echoId}/chat`, { id: 'direct-1', from: 'tester', content: 'direct' })
    const reply = await mqtt.next((m) => m.json?.inReplyTo === 'direct-1')
    assert.equal(reply.json.content, 'direct')
    assert.equal(reply.json.from, 'echo-1')
  })
})
