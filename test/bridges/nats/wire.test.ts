import assert from 'node:assert/strict'
import { routeOf, servedByAHost, unsupportedMessage } from '../../../bridges/nats/control/index.js'
import { BadRequest, count, encodeReply, fail, humanDuration, ok } from '../../../bridges/nats/wire.js'
import { parseServers, redactUrl } from '../../../bridges/nats/connection.js'

const HOST = 'NAHOST'

describe('nats bridge: subjects and replies', () => {
  it('routes wasmCloud 1.x and seed subjects, host-scoped ones only for this host', () => {
    const cases: Array<[string, string | undefined]> = [
      ['host.ping', 'host.ping'],
      ['host.get', 'host.get'],
      [`host.get.${HOST}`, 'host.inventory'],
      [`host.${HOST}.inv`, 'host.inv'],
      [`host.stop.${HOST}`, 'host.stop'],
      ['host.get.NOTME', undefined],
      [`component.scale.${HOST}`, 'component.scale'],
      [`component.update.${HOST}`, 'component.update'],
      ['component.scale.NOTME', undefined],
      [`component.delete.${HOST}`, undefined],
      ['component.auction', 'component.auction'],
      [`provider.start.${HOST}`, 'provider.start'],
      [`provider.stop.${HOST}`, 'provider.stop'],
      ['provider.auction', 'provider.auction'],
      ['link.put', 'link.put'], ['link.del', 'link.del'], ['link.get', 'link.get'], ['link.list', undefined],
      ['config.put.db', 'config.put'], ['config.get.app.settings', 'config.get'], ['config.del.x', 'config.del'], ['config.put', undefined],
      [`label.put.${HOST}`, 'label.put'], [`label.del.${HOST}`, 'label.del'],
      ['claims.get', 'claims.get'], ['registry.put', 'registry.put'],
      ['nonsense', undefined],
    ]
    for (const [subject, key] of cases) assert.equal(routeOf(subject.split('.'), HOST), key, subject)
  })

  it('knows which subjects some host serves (so only the rest get "unsupported subject" from the catch-all)', () => {
    const ME = `N${'A'.repeat(55)}`
    const OTHER = `N${'B2'.repeat(27)}C`
    const served = ['host.ping', 'host.get', `host.get.${OTHER}`, `host.stop.${ME}`, `host.${OTHER}.inv`, `host.nope.${OTHER}`,
      `component.scale.${OTHER}`, `component.update.${ME}`, `component.delete.${OTHER}`, 'component.auction', 'provider.auction',
      `provider.start.${OTHER}`, `label.put.${OTHER}`, 'link.put', 'link.list', 'config.put', 'config.get.a.b', 'claims.get', 'registry.put']
    for (const subject of served) assert.equal(servedByAHost(subject.split('.')), true, subject)
    const unserved = ['component.scale', 'provider.start', 'label.del', 'host.stop', 'host.inv', 'component.scale.my-host',
      `host.${OTHER}.nope`, `component.scale.${OTHER}.x`, 'link.put.x', 'claims.get.x', 'registry', 'nonsense', 'component', 'config']
    for (const subject of unserved) assert.equal(servedByAHost(subject.split('.')), false, subject)
    assert.equal(unsupportedMessage(['provider', 'start']), 'unsupported subject: provider.start needs the id of the host that acts (provider.start.{hostId})')
    assert.match(unsupportedMessage(['label', 'put', 'x']), /"x" is not a host id/)
    assert.equal(unsupportedMessage(['nonsense']), 'unsupported subject')
    assert.equal(unsupportedMessage(['link', 'put', 'x']), 'unsupported subject')
  })

  it('one reply carries CtlResponse and CtlOperationAck; inline replies also spread the payload', () => {
    assert.deepEqual(JSON.parse(encodeReply(ok('done'))), { success: true, message: 'done', accepted: true })
    assert.deepEqual(JSON.parse(encodeReply(fail('no'))), { success: false, message: 'no', accepted: false, error: 'no' })
    assert.deepEqual(JSON.parse(encodeReply(ok('', [1, 2]))), { success: true, message: '', accepted: true, response: [1, 2] })
    const inline = JSON.parse(encodeReply(ok('', { id: 'N1', version: '1.0.0' }, true)))
    assert.deepEqual(inline, { id: 'N1', version: '1.0.0', success: true, message: '', accepted: true, response: { id: 'N1', version: '1.0.0' } })
    // A payload field named like an envelope field never overrides the envelope.
    assert.equal(JSON.parse(encodeReply(ok('m', { success: false }, true))).success, true)
  })

  it('count reads wasmCloud\'s count, or the seed\'s max_instances, and refuses what is not a small non-negative integer', () => {
    assert.equal(count({ count: 3 }), 3)
    assert.equal(count({ max_instances: 2 }), 2)
    assert.equal(count({ count: 0, max_instances: 5 }), 0, 'count wins, as on a real host')
    for (const [body, message] of [[{}, /required/], [{ count: -1 }, /negative/], [{ count: 1.5 }, /integer/], [{ count: '2' }, /integer/], [{ max_instances: 5000 }, /at most 1024/]] as const) {
      assert.throws(() => count(body), (err: unknown) => err instanceof BadRequest && message.test(err.message))
    }
  })

  it('uptime reads like wasmCloud\'s', () => {
    assert.equal(humanDuration(0), '0s')
    assert.equal(humanDuration(59), '59s')
    assert.equal(humanDuration(3661), '1h 1m 1s')
    assert.equal(humanDuration(90061), '1d 1h 1m 1s')
  })

  it('credentials in nats.url are taken out of the server list, and never shown', () => {
    assert.deepEqual(parseServers('nats://colony:s%40cret@127.0.0.1:4222, 127.0.0.1:4223'),
      { servers: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223'], user: 'colony', pass: 's@cret' })
    assert.deepEqual(parseServers('tls://t0ken@nats.example:4443'), { servers: ['tls://nats.example:4443'], token: 't0ken' })
    assert.deepEqual(parseServers('nats://a:1,nats://b:2'), { servers: ['nats://a:1', 'nats://b:2'] })
    assert.equal(redactUrl('nats://colony:s3cret@127.0.0.1:4222,t0ken@h:1'), 'nats://***@127.0.0.1:4222,***@h:1')
    assert.equal(redactUrl('nats://127.0.0.1:4222'), 'nats://127.0.0.1:4222')
  })
})
