import assert from 'node:assert/strict'
import type { ActorKind, ChatMessage } from '../../src/actor/types.js'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { connect, type Recorder } from '../helpers/mqtt.js'
import { post } from '../helpers/http.js'

/** Every chat message a `chat-recorder` actor received, in order. */
const received: ChatMessage[] = []

const recorderKind: ActorKind = {
  kind: 'chat-recorder',
  agentType: 'test',
  spawnable: true,
  create: () => ({
    chat (message) {
      received.push(message)
      return `got ${message.content}`
    },
  }),
}

describe('chat: every door hands an actor the same message, and its reply has one wire shape', () => {
  let colony: TestColony
  let mqtt: Recorder
  let actorId: string

  before(async () => {
    colony = await startColony({ kinds: [recorderKind] })
    mqtt = await connect(colony.rt.urls.mqtt)
    await mqtt.subscribe('agents/+/chat', 'io/chat')
    actorId = (await colony.rt.system.spawn('chat-recorder', { name: 'recorder-1' })).id
  })
  after(async () => {
    await mqtt?.close()
    await colony?.close()
  })

  it('io/chat, agents/{id}/chat and POST /api/chat deliver {type, id, from, to, content, timestampMs, sender} alike', async () => {
    const start = received.length
    await mqtt.publish('io/chat', { id: 'door-io', from: 'tester', content: '@recorder-1 via io' })
    await mqtt.next((m) => m.json?.inReplyTo === 'door-io', { what: 'the reply to io/chat' })
    await mqtt.publish(`agents/${actorId}/chat`, { id: 'door-mqtt', from: 'tester', content: 'via mqtt' })
    await mqtt.next((m) => m.json?.inReplyTo === 'door-mqtt', { what: 'the reply to agents/{id}/chat' })
    const rest = await post(`${colony.rt.urls.http}/api/chat`, { to: 'recorder-1', from: 'tester', content: 'via rest' })
    assert.equal(rest.status, 202)
    await mqtt.next((m) => m.json?.inReplyTo === rest.body.id, { what: 'the reply to POST /api/chat' })

    const [io, direct, viaRest] = received.slice(start)
    assert.ok(io !== undefined && direct !== undefined && viaRest !== undefined, `${received.length - start} messages arrived`)
    for (const [message, id, content] of [[io, 'door-io', 'via io'], [direct, 'door-mqtt', 'via mqtt'], [viaRest, rest.body.id, 'via rest']] as const) {
      assert.deepEqual(Object.keys(message), ['type', 'id', 'from', 'to', 'content', 'timestampMs', 'sender'], id)
      assert.equal(message.type, 'chat')
      assert.equal(message.id, id)
      assert.equal(message.from, 'tester')
      assert.equal(message.to, 'recorder-1')
      assert.equal(message.content, content)
      assert.equal(typeof message.timestampMs, 'number')
      assert.equal(message.sender?.kind, 'local')
    }
  })

  it('a reply and the REST copy on io/chat are the same JSON fields in the same order, byte for byte', async () => {
    const from = mqtt.mark
    const rest = await post(`${colony.rt.urls.http}/api/chat`, { content: '@recorder-1 order', from: 'tester' })
    assert.equal(rest.status, 202)
    const reply = await mqtt.next((m) => m.json?.inReplyTo === rest.body.id, { from, what: 'the reply' })
    const copy = await mqtt.next((m) => m.topic === 'io/chat' && m.json?.id === rest.body.id, { from, what: 'the io/chat copy' })
    assert.equal(reply.topic, `agents/${actorId}/chat`)
    const r = reply.json
    assert.equal(reply.payload.toString(), JSON.stringify({ id: r.id, from: 'recorder-1', to: 'tester', content: 'got order', inReplyTo: rest.body.id, timestampMs: r.timestampMs }))
    const c = copy.json
    assert.equal(copy.payload.toString(), JSON.stringify({ id: rest.body.id, from: 'tester', to: 'recorder-1', content: '@recorder-1 order', timestampMs: c.timestampMs }))
  })
})
