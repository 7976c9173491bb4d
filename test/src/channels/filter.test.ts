import assert from 'node:assert/strict'
import { passes } from '../../../src/channels/filter.js'
import { text, type Notification } from '../../../src/channels/notification.js'

const alert = (severity: 'info' | 'warning' | 'error' | 'critical', type = 'sensor'): Notification => ({
  event: 'actor.alert', timestamp: '2026-12-07T00:00:00.000Z', team_id: 't', actor: { type: 'system' }, resource: { id: 'a1', type: 'actor' },
  agent: { name: 's1', type }, alert: { severity, message: 'disk full' },
})

describe('channels: the alert filter and the chat text', () => {
  it('min_severity drops alerts below it; agent_types keeps only those types; Wrenn events pass', () => {
    const f = { min_severity: 'error' as const, agent_types: ['sensor'] }
    assert.deepEqual(['info', 'warning', 'error', 'critical'].map((s) => passes(f, alert(s as 'info'))), [false, false, true, true])
    assert.equal(passes(f, alert('critical', 'probe')), false)
    assert.equal(passes({ agent_types: [] }, alert('info', 'probe')), true, 'an empty list is no filter')
    assert.equal(passes(null, alert('info')), true)
    const status: Notification = { ...alert('info'), event: 'actor.status', state: 'paused' }
    delete status.alert
    assert.equal(passes({ min_severity: 'critical' }, status), true, 'severity is for alerts only')
    assert.equal(passes({ agent_types: ['probe'] }, status), false)
    const capsule: Notification = { event: 'capsule.created', timestamp: 'x', team_id: 't', actor: { type: 'system' }, resource: { id: 'cl-1', type: 'capsule' } }
    assert.equal(passes(f, capsule), true)
  })

  it('the chat line says what happened and stays under Discord\'s 2 000 characters', () => {
    assert.match(text(alert('error')), /^\[error\] s1 \(sensor\): disk full\nactor\.alert · team t · /)
    assert.match(text({ event: 'capsule.created', timestamp: 'x', team_id: 't', actor: { type: 'user', name: 'alice' }, resource: { id: 'cl-1', type: 'capsule' } }), /^Capsule cl-1 was created by alice/)
    const long = alert('critical')
    long.alert = { severity: 'critical', message: 'x'.repeat(5000) }
    assert.ok(text(long).length <= 1800)
  })
})
