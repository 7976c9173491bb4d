import assert from 'node:assert/strict'
import { deliverChat } from '../../../src/actor/chat.js'
import type { ActorMessage, SystemApi } from '../../../src/actor/types.js'
import type { Identity } from '../../../src/auth/identity.js'
import { chatPayload } from '../../../src/wire/payloads.js'

/** A registry that only records what it was asked to deliver. */
function recordingApi (): { api: SystemApi, delivered: Array<{ ref: string, message: ActorMessage, as: Identity | undefined }> } {
  const delivered: Array<{ ref: string, message: ActorMessage, as: Identity | undefined }> = []
  const api = { deliver: (ref: string, message: ActorMessage, as?: Identity) => { delivered.push({ ref, message, as }) } }
  return { api: api as unknown as SystemApi, delivered }
}

const alice: Identity = { kind: 'user', userId: 'u1', email: 'alice@example.com', name: 'Alice', teamId: 't1', isAdmin: false, teams: new Set(['t1']) }

describe('actor/chat: one way a chat line reaches an actor', () => {
  it('addresses the line by the actor name, delivers to its id, and carries the sender it is delivered as', () => {
    const { api, delivered } = recordingApi()
    deliverChat(api, { id: '01AB-cd', name: 'echo-1' }, { id: 'chat-1', from: 'alice', content: 'hi', timestampMs: 42 }, alice)
    assert.equal(delivered.length, 1)
    const [{ ref, message, as }] = delivered as [typeof delivered[number]]
    assert.equal(ref, '01AB-cd')
    assert.equal(as, alice)
    assert.deepEqual(Object.keys(message), ['type', 'id', 'from', 'to', 'content', 'timestampMs', 'sender'])
    assert.deepEqual(message, { type: 'chat', id: 'chat-1', from: 'alice', to: 'echo-1', content: 'hi', timestampMs: 42, sender: alice })
  })

  it('without a sender the message has no sender field at all (not sender: undefined)', () => {
    const { api, delivered } = recordingApi()
    deliverChat(api, { id: 'a', name: 'b' }, { id: 'c', from: 'd', content: 'e', timestampMs: 1 })
    assert.deepEqual(Object.keys(delivered[0]?.message ?? {}), ['type', 'id', 'from', 'to', 'content', 'timestampMs'])
    assert.equal(delivered[0]?.as, undefined)
  })

  it('a refused delivery throws to the door (which answers it in its own way)', () => {
    const api = { deliver: () => { throw new Error('mailbox full') } } as unknown as SystemApi
    assert.throws(() => deliverChat(api, { id: 'a', name: 'b' }, { id: 'c', from: 'd', content: 'e', timestampMs: 1 }), /mailbox full/)
  })
})

describe('wire/payloads chatPayload: the outbound chat line', () => {
  it('a reply keeps the wire field order, inReplyTo before timestampMs', () => {
    const payload = chatPayload({ id: 'm', from: 'echo-1', to: 'alice', content: 'ok', inReplyTo: 'q', timestampMs: 7 })
    assert.equal(JSON.stringify(payload), '{"id":"m","from":"echo-1","to":"alice","content":"ok","inReplyTo":"q","timestampMs":7}')
  })

  it('a line that answers nothing has no inReplyTo field', () => {
    const payload = chatPayload({ id: 'm', from: 'f', to: 't', content: 'c', timestampMs: 7 })
    assert.equal(JSON.stringify(payload), '{"id":"m","from":"f","to":"t","content":"c","timestampMs":7}')
  })
})
