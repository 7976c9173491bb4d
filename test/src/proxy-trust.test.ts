import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { ProxyTrust } from '../../src/http/proxy.js'
import { notLocalReason } from '../../src/auth/gate.js'

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

describe('notLocalReason: which requests loopback development mode serves', () => {
  it('local tools and same-origin pages: none', () => {
    for (const headers of [{ host: '127.0.0.1:8080' }, { host: 'localhost:8080' }, { host: '[::1]:8080' }, { host: 'app.localhost:8080' }, {},
      { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' }, { host: 'localhost', 'sec-fetch-site': 'none' }]) {
      assert.equal(notLocalReason(headers), undefined, JSON.stringify(headers))
    }
  })

  it('a proxy, another site page, an opaque origin or a rebound host name: a reason', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ host: '127.0.0.1:8080', 'x-forwarded-for': '203.0.113.9' }, /proxy/],
      [{ host: '127.0.0.1:8080', 'x-real-ip': '203.0.113.9' }, /proxy/],
      [{ host: '127.0.0.1:8080', forwarded: 'for=203.0.113.9' }, /proxy/],
      [{ host: 'evil.example:8080' }, /not a loopback name/],
      [{ host: '127.0.0.1.nip.io:8080' }, /not a loopback name/],
      [{ host: '127.0.0.1:8080', origin: 'http://evil.example' }, /another site/],
      [{ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:9999' }, /another site/],
      [{ host: '127.0.0.1:8080', origin: 'null' }, /another site/],
      [{ host: '127.0.0.1:8080', origin: '::garbage::' }, /another site/],
      [{ host: '127.0.0.1:8080', 'sec-fetch-site': 'cross-site' }, /another site/],
      [{ host: 'localhost:8080', 'sec-fetch-site': 'same-site' }, /another site/],
    ]
    for (const [headers, reason] of cases) assert.match(notLocalReason(headers) ?? '', reason, JSON.stringify(headers))
  })
})
