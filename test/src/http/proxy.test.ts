import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { ProxyTrust } from '../../../src/http/proxy.js'

function request (peer: string, headers: Record<string, string | string[]> = {}): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage
}

describe('ProxyTrust: whose X-Forwarded-For names the client', () => {
  const trust = new ProxyTrust(true, '127.0.0.1, ::1 ,::ffff:127.0.0.1')

  it('from a listed proxy: the last X-Forwarded-For entry (what the proxy saw), if it is an IP address', () => {
    assert.equal(trust.clientAddress(request('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' })), '203.0.113.9')
    assert.equal(trust.clientAddress(request('::1', { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' })), '203.0.113.9')
    assert.equal(trust.clientAddress(request('::ffff:127.0.0.1', { 'x-forwarded-for': ['198.51.100.1', '2001:db8::7'] })), '2001:db8::7')
    assert.equal(trust.clientAddress(request('127.0.0.1', { 'x-forwarded-for': 'not-an-ip' })), '127.0.0.1', 'garbage: the peer')
    assert.equal(trust.clientAddress(request('127.0.0.1')), '127.0.0.1', 'no header: the peer')
  })

  it('from anyone else, or with trustProxy off: the peer, whatever the header says', () => {
    assert.equal(trust.clientAddress(request('10.0.0.8', { 'x-forwarded-for': '203.0.113.9' })), '10.0.0.8')
    const off = new ProxyTrust(false, '127.0.0.1')
    assert.equal(off.clientAddress(request('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' })), '127.0.0.1')
    assert.equal(off.trusts('127.0.0.1'), false)
    assert.equal(trust.trusts(undefined), false)
  })
})
