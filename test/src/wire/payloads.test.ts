import assert from 'node:assert/strict'
import { ColonyError, type ErrorCode } from '../../../src/errors.js'
import { COMMANDS, MAX_CHAT_CONTENT, parseCommand, parseInboundChat, parseJson } from '../../../src/wire/payloads.js'

const buf = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value))

function throwsCode (fn: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ColonyError, `expected a ColonyError, got ${String(err)}`)
    assert.equal(err.code, code)
    if (message !== undefined) assert.match(err.message, message)
    return true
  })
}

describe('wire/payloads', () => {
  describe('parseJson', () => {
    it('parses Buffers and strings', () => {
      assert.deepEqual(parseJson(buf({ a: [1, 'x'] })), { a: [1, 'x'] })
      assert.equal(parseJson('42'), 42)
      assert.equal(parseJson('null'), null)
    })

    for (const bad of ['', '{', "{'a':1}", 'undefined', '{"a":1} trailing', '\u0000']) {
      it(`throws wire_invalid_json (not SyntaxError) on ${JSON.stringify(bad)}`, () => {
        throwsCode(() => parseJson(Buffer.from(bad)), 'wire_invalid_json')
      })
    }

    it('refuses JSON nested deeper than 256 levels with wire_invalid_payload; brackets in strings do not count (issue 10 item 9)', () => {
      const nest = (n: number, open = '[', close = ']'): string => open.repeat(n) + close.repeat(n)
      throwsCode(() => parseJson(nest(100_000)), 'wire_invalid_payload', /^payload nests deeper than 256 levels of arrays and objects$/)
      throwsCode(() => parseJson(`{"a":${nest(257)}}`), 'wire_invalid_payload')
      throwsCode(() => parseJson(`[${'{"a":'.repeat(256)}1${'}'.repeat(256)}]`), 'wire_invalid_payload')
      assert.deepEqual(parseJson(`{"a":${nest(255)}}`), { a: JSON.parse(nest(255)) })
      const text = { content: `${'['.repeat(1000)} "quoted \\" [[[ ${'{'.repeat(1000)}` }
      assert.deepEqual(parseJson(JSON.stringify(text)), text)
      // Still invalid JSON first: a deep but broken text is wire_invalid_json.
      throwsCode(() => parseJson('['.repeat(1000)), 'wire_invalid_json')
    })
  })

  describe('parseInboundChat', () => {
    it('parses a full message', () => {
      assert.deepEqual(
        parseInboundChat(buf({ from: 'alice', to: 'main-actor', id: 'm-1', content: '@echo hi', timestampMs: 1 })),
        { from: 'alice', to: 'main-actor', id: 'm-1', content: '@echo hi' },
      )
    })

    it('defaults from to "user" and leaves out absent to and id', () => {
      const parsed = parseInboundChat(buf({ content: 'hello' }))
      assert.deepEqual(parsed, { from: 'user', content: 'hello' })
      assert.equal(Object.hasOwn(parsed, 'to'), false)
      assert.equal(Object.hasOwn(parsed, 'id'), false)
    })

    it('treats null from/to/id as absent', () => {
      assert.deepEqual(parseInboundChat(buf({ content: 'x', from: null, to: null, id: null })), { from: 'user', content: 'x' })
    })

    it('accepts empty content and unicode', () => {
      assert.equal(parseInboundChat(buf({ content: '' })).content, '')
      assert.equal(parseInboundChat(buf({ content: 'héllo 🐝' })).content, 'héllo 🐝')
    })

    it('rejects non-JSON with wire_invalid_json', () => {
      throwsCode(() => parseInboundChat(buf('hello there')), 'wire_invalid_json')
      throwsCode(() => parseInboundChat(Buffer.alloc(0)), 'wire_invalid_json')
    })

    for (const [what, value] of [['an array', [{ content: 'x' }]], ['null', null], ['a string', 'content'], ['a number', 7]] as const) {
      it(`rejects ${what} with wire_invalid_payload`, () => {
        throwsCode(() => parseInboundChat(buf(JSON.stringify(value))), 'wire_invalid_payload', /must be a JSON object/)
      })
    }

    for (const content of [undefined, 5, null, ['a'], { text: 'a' }, true]) {
      it(`rejects content ${JSON.stringify(content) ?? 'missing'}`, () => {
        throwsCode(() => parseInboundChat(buf({ content })), 'wire_invalid_payload', /content must be a string/)
      })
    }

    for (const key of ['from', 'to', 'id']) {
      it(`rejects a non-string ${key}`, () => {
        throwsCode(() => parseInboundChat(buf({ content: 'x', [key]: 12 })), 'wire_invalid_payload', new RegExp(`${key} must be a string`))
      })
    }

    it('accepts content of exactly MAX_CHAT_CONTENT characters and refuses one more', () => {
      assert.equal(MAX_CHAT_CONTENT, 64 * 1024)
      assert.equal(parseInboundChat(buf({ content: 'a'.repeat(MAX_CHAT_CONTENT) })).content.length, MAX_CHAT_CONTENT)
      throwsCode(() => parseInboundChat(buf({ content: 'a'.repeat(MAX_CHAT_CONTENT + 1) })), 'wire_payload_too_large')
    })

    it('limits from and to to 256 characters and id to 128', () => {
      assert.equal(parseInboundChat(buf({ content: 'x', from: 'f'.repeat(256) })).from.length, 256)
      throwsCode(() => parseInboundChat(buf({ content: 'x', from: 'f'.repeat(257) })), 'wire_payload_too_large', /from/)
      throwsCode(() => parseInboundChat(buf({ content: 'x', to: 't'.repeat(257) })), 'wire_payload_too_large', /to/)
      assert.equal(parseInboundChat(buf({ content: 'x', id: 'i'.repeat(128) })).id?.length, 128)
      throwsCode(() => parseInboundChat(buf({ content: 'x', id: 'i'.repeat(129) })), 'wire_payload_too_large', /id/)
    })

    it('does not copy unknown fields into the result', () => {
      const parsed = parseInboundChat(buf('{"content":"x","admin":true,"__proto__":{"polluted":1}}'))
      assert.deepEqual(Object.keys(parsed).sort(), ['content', 'from'])
    })
  })

  describe('parseCommand', () => {
    for (const command of COMMANDS) {
      it(`accepts ${command}`, () => { assert.equal(parseCommand(buf({ command })), command) })
    }

    it('ignores extra fields', () => {
      assert.equal(parseCommand(buf({ command: 'pause', reason: 'maintenance' })), 'pause')
    })

    for (const command of ['PAUSE', 'restart', '', ' stop', 'toString', 'constructor']) {
      it(`rejects unknown command ${JSON.stringify(command)} with wire_unknown_command`, () => {
        throwsCode(() => parseCommand(buf({ command })), 'wire_unknown_command', /expected one of pause, resume, stop, delete/)
      })
    }

    it('truncates a long unknown command in the message', () => {
      assert.throws(() => parseCommand(buf({ command: 'x'.repeat(10_000) })), (err: ColonyError) => {
        assert.equal(err.code, 'wire_unknown_command')
        assert.ok(err.message.length < 200, `message is ${err.message.length} characters`)
        return true
      })
    })

    it('rejects non-JSON, including a bare command word', () => {
      throwsCode(() => parseCommand(buf('pause')), 'wire_invalid_json')
      throwsCode(() => parseCommand(buf('{"command":')), 'wire_invalid_json')
    })

    for (const [what, value] of [['an array', ['pause']], ['a JSON string', 'pause'], ['null', null]] as const) {
      it(`rejects ${what} with wire_invalid_payload`, () => {
        throwsCode(() => parseCommand(buf(JSON.stringify(value))), 'wire_invalid_payload')
      })
    }

    for (const command of [undefined, 1, null, ['pause'], { name: 'pause' }]) {
      it(`rejects command ${JSON.stringify(command) ?? 'missing'} with wire_invalid_payload`, () => {
        throwsCode(() => parseCommand(buf({ command })), 'wire_invalid_payload', /command must be a string/)
      })
    }
  })
})
