import assert from 'node:assert/strict'
import {
  agentLevelOf, agentPrefix, compileFilter, filters, isAgentsTopic, isLatticeTopic, isRuntimeTopic, isSystemTopic, SYSTEM_PREFIX, topics,
} from '../../../src/wire/topics.js'

describe('wire/topics: the topics that used to be written out at their users', () => {
  it('component invocation, reply and log topics', () => {
    assert.equal(topics.invoke('c-1'), 'agents/c-1/invoke')
    assert.equal(topics.reply('c-1'), 'agents/c-1/reply')
    assert.equal(topics.logs('c-1'), 'agents/c-1/logs')
    assert.equal(agentPrefix('c-1'), 'agents/c-1/')
  })

  it('lattice mirrors and the /ws drop report', () => {
    assert.equal(topics.latticeCtl, 'system/lattice/ctl')
    assert.equal(topics.latticeEvent('component_scaled'), 'system/lattice/events/component_scaled')
    assert.equal(topics.wsDropped, '$colony/ws/dropped')
    assert.equal(SYSTEM_PREFIX, 'system/')
  })

  it('filters over every actor match exactly their channel', () => {
    assert.deepEqual([filters.commands, filters.chat, filters.invoke, filters.status], ['agents/+/commands', 'agents/+/chat', 'agents/+/invoke', 'agents/+/status'])
    assert.equal(filters.haDiscovery('homeassistant'), 'homeassistant/#')
    for (const channel of ['commands', 'chat', 'invoke', 'status'] as const) {
      const match = compileFilter(filters[channel])
      assert.equal(match(`agents/x/${channel}`), true)
      assert.equal(match('agents/x/alert'), false)
      assert.equal(match(`agents/x/${channel}/deeper`), false)
    }
  })

  it('prefix predicates', () => {
    assert.equal(isAgentsTopic('agents/x/logs'), true)
    assert.equal(isAgentsTopic('agents'), false)
    assert.equal(isSystemTopic('system/health'), true)
    assert.equal(isSystemTopic('systems/x'), false)
    assert.equal(isLatticeTopic('system/lattice/events/x'), true)
    assert.equal(isLatticeTopic('system/health'), false)
  })

  it('agentLevelOf reads the actor level of any topic below agents/, at any depth', () => {
    assert.equal(agentLevelOf('agents/a1/reply/42'), 'a1')
    assert.equal(agentLevelOf('agents/a1'), 'a1')
    assert.equal(agentLevelOf('agents/'), '')
    assert.equal(agentLevelOf('io/chat'), undefined)
    assert.equal(agentLevelOf('system/spawn'), undefined)
  })

  it('isRuntimeTopic: $-topics, system/ and runtime-only actor channels; replies, logs and chat are not', () => {
    for (const topic of ['$SYS/broker', '$colony/x', 'system/health', 'system/lattice/ctl', 'agents/a/spawn', 'agents/a/heartbeat', 'agents/a/status', 'agents/a/alert']) {
      assert.equal(isRuntimeTopic(topic), true, topic)
    }
    for (const topic of ['agents/a/chat', 'agents/a/reply', 'agents/a/reply/x', 'agents/a/status/x', 'io/chat', 'sensors/t', 'systems/x']) {
      assert.equal(isRuntimeTopic(topic), false, topic)
    }
  })
})
