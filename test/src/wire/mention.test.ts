import assert from 'node:assert/strict'
import { DEFAULT_CHAT_TARGET, routeChat } from '../../../src/index.js'

describe('wire/mention: routeChat, the @mention reading io/chat and POST /api/chat share', () => {
  it('@name rest, @name: rest and @name, rest go to name with rest, inner whitespace kept', () => {
    assert.deepEqual(routeChat('@echo-1   hello    big\n  world  '), { target: 'echo-1', content: 'hello    big\n  world' })
    assert.deepEqual(routeChat('@echo-1: colon'), { target: 'echo-1', content: 'colon' })
    assert.deepEqual(routeChat('  @a_b, x'), { target: 'a_b', content: 'x' })
    assert.deepEqual(routeChat('@alone'), { target: 'alone', content: '' })
  })

  it('anything else goes whole (trimmed) to main-actor', () => {
    assert.equal(DEFAULT_CHAT_TARGET, 'main-actor')
    for (const line of ['agents', ' status echo-1 ', 'mail me@example.com', '@bad.name hi', `@${'x'.repeat(65)} hi`, '@ space']) {
      assert.deepEqual(routeChat(line), { target: 'main-actor', content: line.trim() }, line)
    }
  })
})
