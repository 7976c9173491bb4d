import assert from 'node:assert/strict'
import { pino } from 'pino'
import { ColonyError } from '../../../src/errors.js'
import type { ActorMessage } from '../../../src/actor/types.js'
import {
  componentMessages, providerMessages, readComponentMessage, readProviderMessage, refuseMessage,
} from '../../../src/components/messages.js'

/** What `system.ask` delivers: the message with the way to answer it; `answers` records what the actor said. */
function asked (message: Record<string, unknown>): { message: ActorMessage, answers: Array<{ error: unknown, value: unknown }> } {
  const answers: Array<{ error: unknown, value: unknown }> = []
  return { message: { type: '', ...message, respond: (error: unknown, value?: unknown) => { answers.push({ error, value }) } }, answers }
}

/** A logger that keeps its lines. */
function recordingLog (): { log: pino.Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'debug' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>) } })
  return { log, lines }
}

describe('components/messages: the component and provider protocol', () => {
  describe('what the constructors build, the readers accept', () => {
    it('invoke, with and without a timeout', () => {
      assert.deepEqual(componentMessages.invoke('add', [1, 2], 500), { type: 'invoke', function: 'add', params: [1, 2], timeoutMs: 500 })
      assert.deepEqual(componentMessages.invoke('add', []), { type: 'invoke', function: 'add', params: [] }, 'no timeoutMs key at all')
      for (const built of [componentMessages.invoke('add', [1, 2], 500), componentMessages.invoke('add', [])]) {
        const read = readComponentMessage(asked(built).message)
        assert.equal(read?.type, 'invoke')
      }
    })

    it('scale: a version pins, null follows the latest again, absent keeps the pin', () => {
      assert.deepEqual(componentMessages.scale(3), { type: 'scale', instances: 3 })
      assert.deepEqual(componentMessages.scale(3, 2), { type: 'scale', instances: 3, version: 2 })
      assert.deepEqual(componentMessages.scale(0, null), { type: 'scale', instances: 0, version: null })
      for (const version of [undefined, 2, null]) {
        const read = readComponentMessage(asked(componentMessages.scale(1, version)).message)
        assert.ok(read?.type === 'scale')
        assert.equal(read.instances, 1)
        assert.equal(read.version, version)
      }
    })

    it('describe and links-changed; host-call and reconcile', () => {
      assert.equal(readComponentMessage(asked(componentMessages.describe()).message)?.type, 'describe')
      assert.equal(readComponentMessage(componentMessages.linksChanged())?.type, 'links-changed', 'a timer message needs no respond')
      const call = providerMessages.hostCall('comp-1', 'wasi:keyvalue/store', 'get', ['b', 'k'])
      assert.deepEqual(call, { type: 'host-call', iface: 'wasi:keyvalue/store', method: 'get', args: ['b', 'k'], source: 'comp-1' })
      const read = readProviderMessage(asked(call).message)
      assert.ok(read?.type === 'host-call')
      assert.equal(read.source, 'comp-1')
      assert.equal(readProviderMessage(providerMessages.reconcile())?.type, 'reconcile')
    })
  })

  describe('what the readers refuse', () => {
    const component: Array<[string, Record<string, unknown>]> = [
      ['an unknown type', { type: 'resize', instances: 2 }],
      ['instances as a string', { type: 'scale', instances: '2' }],
      ['negative instances', { type: 'scale', instances: -1 }],
      ['fractional instances', { type: 'scale', instances: 1.5 }],
      ['a version that is not a count or null', { type: 'scale', instances: 1, version: 'latest' }],
      ['a function name that is not a string', { type: 'invoke', function: 42, params: [] }],
      ['a timeout that is not a positive number', { type: 'invoke', function: 'add', params: [], timeoutMs: '5' }],
      ['a provider message', { type: 'host-call', iface: 'i', method: 'm', args: [], source: 's' }],
    ]
    for (const [what, message] of component) {
      it(`component: ${what}`, () => {
        assert.equal(readComponentMessage(asked(message).message), undefined)
      })
    }

    it('component: an ask that was told (no way to answer it)', () => {
      assert.equal(readComponentMessage(componentMessages.scale(2) as ActorMessage), undefined)
      assert.equal(readComponentMessage(componentMessages.invoke('add', []) as ActorMessage), undefined)
      assert.equal(readComponentMessage(componentMessages.describe() as ActorMessage), undefined)
    })

    const provider: Array<[string, Record<string, unknown>]> = [
      ['an unknown type', { type: 'invoke', function: 'add', params: [] }],
      ['args that are not a list', { type: 'host-call', iface: 'i', method: 'm', args: 'x', source: 's' }],
      ['no source', { type: 'host-call', iface: 'i', method: 'm', args: [] }],
      ['a method that is not a string', { type: 'host-call', iface: 'i', method: 1, args: [], source: 's' }],
    ]
    for (const [what, message] of provider) {
      it(`provider: ${what}`, () => {
        assert.equal(readProviderMessage(asked(message).message), undefined)
      })
    }

    it('provider: a host call that was told', () => {
      assert.equal(readProviderMessage(providerMessages.hostCall('s', 'i', 'm', []) as ActorMessage), undefined)
    })
  })

  describe('refuseMessage', () => {
    it('answers an ask at once with message_unknown, and logs the type', () => {
      const { log, lines } = recordingLog()
      const { message, answers } = asked({ type: 'resize', instances: 2 })
      refuseMessage(log, message, 'component')
      assert.equal(answers.length, 1)
      const error = answers[0]?.error
      assert.ok(error instanceof ColonyError)
      assert.equal(error.code, 'message_unknown')
      assert.equal(error.status, 400)
      assert.match(error.message, /component actor does not understand a "resize" message/)
      assert.deepEqual(lines.map((l) => [l.msg, l.type, l.protocol]), [['message refused: not part of the protocol, or malformed', 'resize', 'component']])
    })

    it('only logs a message nobody waits for, and never throws', () => {
      const { log, lines } = recordingLog()
      assert.doesNotThrow(() => { refuseMessage(log, { type: 'stray' }, 'provider') })
      assert.equal(lines.length, 1)
      assert.equal(lines[0]?.protocol, 'provider')
    })
  })
})
