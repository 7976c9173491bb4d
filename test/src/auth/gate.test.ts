import assert from 'node:assert/strict'
import { notLocalReason } from '../../../src/auth/gate.js'

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
