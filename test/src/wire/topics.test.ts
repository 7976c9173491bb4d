import assert from 'node:assert/strict'
import {
  compileFilter, isValidFilter, matchesFilter, parseAgentTopic, RUNTIME_ONLY_CHANNELS, topics,
} from '../../../src/wire/topics.js'

describe('wire/topics', () => {
  describe('builders', () => {
    it('build agents/{id}/{channel} for every channel', () => {
      assert.equal(topics.spawn('a1'), 'agents/a1/spawn')
      assert.equal(topics.heartbeat('a1'), 'agents/a1/heartbeat')
      assert.equal(topics.status('a1'), 'agents/a1/status')
      assert.equal(topics.alert('a1'), 'agents/a1/alert')
      assert.equal(topics.chat('main-actor'), 'agents/main-actor/chat')
      assert.equal(topics.commands('x_Y-9'), 'agents/x_Y-9/commands')
    })

    it('fixed topics match the wire contract', () => {
      assert.equal(topics.systemHealth, 'system/health')
      assert.equal(topics.systemSpawn, 'system/spawn')
      assert.equal(topics.ioChat, 'io/chat')
      assert.equal(topics.systemViolations, 'system/violations')
    })

    it('every builder output parses back to its id and channel', () => {
      for (const channel of ['spawn', 'heartbeat', 'status', 'alert', 'chat', 'commands'] as const) {
        assert.deepEqual(parseAgentTopic(topics[channel]('io-agent')), { id: 'io-agent', channel })
      }
    })

    it('only spawn, heartbeat, status and alert are runtime-only', () => {
      assert.deepEqual([...RUNTIME_ONLY_CHANNELS].sort(), ['alert', 'heartbeat', 'spawn', 'status'])
    })
  })

  describe('parseAgentTopic', () => {
    it('parses agents/{id}/{channel}', () => {
      assert.deepEqual(parseAgentTopic('agents/01JQND5X-a1b2c3d4/heartbeat'), { id: '01JQND5X-a1b2c3d4', channel: 'heartbeat' })
      assert.deepEqual(parseAgentTopic('agents/x/custom'), { id: 'x', channel: 'custom' })
    })

    for (const topic of [
      'agents', 'agents/', 'agents/x', 'agents//chat', 'agents/x/chat/extra', 'agents/x/chat/',
      '/agents/x/chat', 'Agents/x/chat', 'agent/x/chat', 'system/health', 'io/chat', '',
    ]) {
      it(`rejects "${topic}"`, () => { assert.equal(parseAgentTopic(topic), undefined) })
    }

    it('rejects an empty channel level ("agents/x/")', () => {
      assert.equal(parseAgentTopic('agents/x/'), undefined)
    })
  })

  describe('isValidFilter (MQTT 3.1.1 §4.7)', () => {
    for (const filter of [
      '#', '+', 'a', 'a/b/c', 'a/#', 'a/+', 'a/+/b', '+/+', '+/#', '/', '//', 'a//b', '/#', '+/', '$SYS/#',
      'sport/tennis/player1/#', 'a b/c', 'ü/€',
    ]) {
      it(`accepts "${filter}"`, () => { assert.equal(isValidFilter(filter), true) })
    }

    for (const filter of ['', 'a#', '#a', 'a/#/b', '#/a', 'a/b#', 'sport/tennis#', '##', 'a+', '+a', 'a/+b/c', '++', 'a/b+/#', 'a\0b']) {
      it(`rejects ${JSON.stringify(filter)}`, () => { assert.equal(isValidFilter(filter), false) })
    }

    it('accepts 65535 bytes and rejects 65536', () => {
      assert.equal(isValidFilter('a'.repeat(65535)), true)
      assert.equal(isValidFilter('a'.repeat(65536)), false)
    })

    it('measures the limit in UTF-8 bytes, not characters [MQTT-4.7.3-3]', () => {
      const filter = '€'.repeat(30_000) // 30 000 characters, 90 000 bytes
      assert.equal(Buffer.byteLength(filter), 90_000)
      assert.equal(isValidFilter(filter), false)
    })
  })

  describe('compileFilter / matchesFilter', () => {
    const cases: Array<[string, string, boolean]> = [
      ['a/b', 'a/b', true],
      ['a/b', 'a/b/c', false],
      ['a/b', 'a', false],
      ['a/b', 'A/b', false],
      ['#', 'a', true],
      ['#', 'a/b/c', true],
      ['#', '/', true],
      ['sport/#', 'sport', true],
      ['sport/#', 'sport/', true],
      ['sport/#', 'sport/tennis/player1', true],
      ['sport/#', 'sports', false],
      ['sport/tennis/#', 'sport/tennis', true],
      ['sport/tennis/#', 'sport', false],
      ['sport/+', 'sport', false],
      ['sport/+', 'sport/', true],
      ['sport/+', 'sport/tennis', true],
      ['sport/+', 'sport/tennis/player1', false],
      ['+', 'finance', true],
      ['+', '/finance', false],
      ['+/+', '/finance', true],
      ['/+', '/finance', true],
      ['a/+/b', 'a//b', true],
      ['a/+/b', 'a/x/b', true],
      ['a/+/b', 'a/x/y/b', false],
      ['+/+/+', 'a//', true],
      ['agents/+/heartbeat', 'agents/x/heartbeat', true],
      ['agents/+/heartbeat', 'agents/x/status', false],
      ['+/#', 'a', true],
      ['+/#', 'a/b/c', true],
    ]
    for (const [filter, topic, expected] of cases) {
      it(`"${filter}" ${expected ? 'matches' : 'does not match'} "${topic}"`, () => {
        assert.equal(matchesFilter(filter, topic), expected)
        assert.equal(compileFilter(filter)(topic), expected)
      })
    }

    describe('$-topics [MQTT-4.7.2-1]', () => {
      for (const filter of ['#', '+', '+/#', '+/broker', '+/+']) {
        it(`"${filter}" does not match $SYS topics`, () => {
          const match = compileFilter(filter)
          assert.equal(match('$SYS/broker'), false)
          assert.equal(match('$SYS'), false)
        })
      }

      it('filters that name $SYS explicitly match it', () => {
        assert.equal(matchesFilter('$SYS/#', '$SYS/broker/clients'), true)
        assert.equal(matchesFilter('$SYS/#', '$SYS'), true)
        assert.equal(matchesFilter('$SYS/+', '$SYS/broker'), true)
        assert.equal(matchesFilter('$SYS/broker', '$SYS/broker'), true)
      })

      it('a $ later in a topic is an ordinary character', () => {
        assert.equal(matchesFilter('#', 'a/$b'), true)
        assert.equal(matchesFilter('+/+', 'a/$b'), true)
      })
    })

    it('a compiled filter can be reused across many topics', () => {
      const match = compileFilter('agents/+/chat')
      const topicsSeen = ['agents/a/chat', 'agents/b/chat', 'agents/a/status', 'io/chat', 'agents/c/chat']
      assert.deepEqual(topicsSeen.filter(match), ['agents/a/chat', 'agents/b/chat', 'agents/c/chat'])
    })
  })
})
