import assert from 'node:assert/strict'
import { isValidSubject, parseBridgeRules, parseLabels } from '../../../bridges/nats/topic-map.js'

describe('topic-map: MQTT <-> NATS rules', () => {
  it('parses the three directions, several rules, and spaces around them', () => {
    const rules = parseBridgeRules(' sensors/# <-> sensors.> ;alerts/+ -> colony.alerts.*;  devices/+/set <- fleet.*.set ; ')
    assert.deepEqual(rules.map((r) => [r.mqtt, r.direction, r.nats]), [
      ['sensors/#', 'both', 'sensors.>'],
      ['alerts/+', 'mqtt-to-nats', 'colony.alerts.*'],
      ['devices/+/set', 'nats-to-mqtt', 'fleet.*.set'],
    ])
    assert.deepEqual(parseBridgeRules(''), [])
  })

  it('carries what wildcards matched, literal levels may differ on each side', () => {
    const [rule] = parseBridgeRules('home/+/temp/# <-> site.*.temperature.>')
    assert.equal(rule?.toNats('home/kitchen/temp/c/1'), 'site.kitchen.temperature.c.1')
    assert.equal(rule?.toMqtt('site.garage.temperature.f'), 'home/garage/temp/f')
    assert.equal(rule?.toNats('home/kitchen/humidity/x'), undefined, 'a literal level that differs')
    assert.equal(rule?.toNats('home/kitchen/temp'), undefined, '# matching its parent alone has nothing for >')
    assert.equal(rule?.toMqtt('site.garage'), undefined)
    const [exact] = parseBridgeRules('a/b <-> x.y.z')
    assert.equal(exact?.toNats('a/b'), 'x.y.z')
    assert.equal(exact?.toNats('a/b/c'), undefined)
    assert.equal(exact?.toMqtt('x.y.z'), 'a/b')
  })

  it('skips levels the other side cannot carry instead of mangling them', () => {
    const [rule] = parseBridgeRules('s/# <-> s.>')
    assert.equal(rule?.toNats('s/v1.2/x'), undefined, 'a dot would split a NATS token')
    assert.equal(rule?.toNats('s//x'), undefined, 'an empty level is not a NATS token')
    assert.equal(rule?.toNats('s/a b'), undefined, 'whitespace')
    assert.equal(rule?.toMqtt('s.a/b'), undefined, 'a slash would split an MQTT level')
    assert.equal(rule?.toMqtt('s.a+b'), undefined)
  })

  it('refuses rules that are malformed, mismatched, or that would write into what the runtime owns', () => {
    const bad: Array<[string, RegExp]> = [
      ['sensors/#', /needs "<mqtt filter> <-> <nats subject>"/],
      ['a/+ <-> b.>', /same wildcards in the same order/],
      ['a/# <-> b.*', /same wildcards/],
      ['a/+/+ <-> b.*', /same wildcards/],
      ['a/#/b <-> a.>', /not a valid MQTT topic filter/],
      ['a/b <-> a..b', /not a valid NATS subject/],
      ['a/b <-> a.>.b', /not a valid NATS subject/],
      ['system/# <-> s.>', /may not be published on \$, system\/ or agents\//],
      ['agents/+/heartbeat <- beats.*', /agents\//],
      ['# <-> >', /runtime owns them|may not be published/],
      ['a/# -> wasmbus.>', /may not be published on \$, _INBOX\. or wasmbus\./],
      ['a/# -> _INBOX.>', /_INBOX/],
    ]
    for (const [text, message] of bad) assert.throws(() => parseBridgeRules(text), message, text)
    // One-way rules may read what they may not write: MQTT system topics out to NATS, NATS wasmbus events in.
    assert.equal(parseBridgeRules('system/health -> colony.health')[0]?.toNats('system/health'), 'colony.health')
    assert.equal(parseBridgeRules('lattice/# <- wasmbus.evt.>')[0]?.toMqtt('wasmbus.evt.default.host_heartbeat'), 'lattice/default/host_heartbeat')
  })

  it('validates NATS subjects', () => {
    for (const ok of ['a', 'a.b', 'a.*.c', 'a.>', '*', '>']) assert.ok(isValidSubject(ok), ok)
    for (const bad of ['', 'a.', '.a', 'a..b', 'a.>.b', 'a*.b', 'a b', 'a.b>']) assert.ok(!isValidSubject(bad), bad)
  })
})

describe('topic-map: host labels', () => {
  it('parses key=value pairs and refuses malformed or reserved ones', () => {
    assert.deepEqual(parseLabels('region=eu, tier = edge,empty='), { region: 'eu', tier: 'edge', empty: '' })
    assert.deepEqual(parseLabels(''), {})
    assert.throws(() => parseLabels('novalue'), /must be key=value/)
    assert.throws(() => parseLabels('=x'), /must be key=value/)
    assert.throws(() => parseLabels('bad key=1'), /must be key=value/)
    assert.throws(() => parseLabels('hostcore.os=plan9'), /set by the host itself/)
  })
})
