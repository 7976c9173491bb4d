import assert from 'node:assert/strict'
import { findCredentials } from '../../actors/qa.js'

// Built at run time so that no credential-shaped literal sits in the source for scanners to flag.
const hex = (n: number): string => 'a1b2c3d4e5f60789'.repeat(Math.ceil(n / 16)).slice(0, n)
const alnum = (n: number): string => 'Ab3Cd5Ef7Gh9'.repeat(Math.ceil(n / 12)).slice(0, n)
const upper = (n: number): string => 'ABCDEFGH2345WXYZ'.repeat(Math.ceil(n / 16)).slice(0, n)

describe('qa-agent credential patterns', () => {
  const positives: Array<[string, string]> = [
    ['private key block', `here it is:\n-----BEGIN ${'RSA'} PRIVATE KEY-----\nMIIEow...`],
    ['private key block', `-----BEGIN ${'OPENSSH'} PRIVATE KEY-----`],
    ['private key block', `-----BEGIN ${'ENCRYPTED'} PRIVATE KEY-----`],
    ['private key block', `-----BEGIN PRIVATE KEY-----`],
    ['JWT', `Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.${alnum(43)}`],
    ['Colony API key', `my key is col_${hex(32)} ok?`],
    ['OpenAI-style API key', `export OPENAI=sk-${alnum(48)}`],
    ['OpenAI-style API key', `sk-proj-${alnum(40)}`],
    ['OpenAI-style API key', `sk-ant-${alnum(40)}`],
    ['AWS access key id', `aws: AKIA${upper(16)}`],
    ['AWS access key id', `ASIA${upper(16)}`],
    ['GitHub token', `ghp_${alnum(36)}`],
    ['GitHub token', `gho_${alnum(36)}`],
    ['GitHub token', `github_pat_${alnum(50)}`],
    ['Slack token', `xoxb-${'1234567890'}-${alnum(24)}`],
    ['Slack token', `xoxp-${alnum(30)}`],
    ['Google API key', `key=AIza${alnum(35)}`],
    ['secret assignment', 'password = hunter2hunter2'],
    ['secret assignment', 'PASSWORD: "hunter2hunter2"'],
    ['secret assignment', 'api_key=abcdefgh12345'],
    ['secret assignment', 'api-key: 0123456789'],
    ['secret assignment', 'secret: s3cr3t-v4lue'],
    ['secret assignment', 'token=abcdefghijkl'],
    ['secret assignment', 'passwd=qwertyuiop'],
  ]
  for (const [kind, text] of positives) {
    it(`finds a ${kind} in ${JSON.stringify(text.slice(0, 40))}`, () => {
      assert.ok(findCredentials(text).includes(kind), `found ${JSON.stringify(findCredentials(text))}`)
    })
  }

  it('reports each kind present, once, in table order', () => {
    const text = `col_${hex(32)} and again col_${hex(32)} and AKIA${upper(16)}`
    assert.deepEqual(findCredentials(text), ['Colony API key', 'AWS access key id'])
  })

  it('reports only the kind, never the matched text', () => {
    const secret = `col_${hex(32)}`
    assert.ok(findCredentials(secret).every((k) => !k.includes(secret)))
  })

  it('gives the same answer when called repeatedly (no regex state)', () => {
    const text = `ghp_${alnum(36)}`
    for (let i = 0; i < 3; i++) assert.deepEqual(findCredentials(text), ['GitHub token'])
  })

  const negatives = [
    'hello @main-actor, how are you today?',
    '@echo-1 help',
    'the token expired, can you renew it?',
    'token',
    'my password is long',
    'password: short',
    'set timeout = 5000',
    'request 550e8400-e29b-41d4-a716-446655440000 failed',
    'commit deadbeef and a1b2c3d4e5f6',
    `col_${hex(16)}`,
    `col_${hex(33)}`,
    `col_${hex(32).toUpperCase()}`,
    'ask-questions-about-anything-you-like',
    'the risk-assessment-for-this-quarter-is-done',
    'sk-short',
    'AKIA is a prefix',
    `akia${upper(16).toLowerCase()}`,
    'ghp_tooShort',
    'xoxb-',
    'AIzaShort',
    '-----BEGIN PUBLIC KEY-----',
    '-----BEGIN CERTIFICATE-----',
    'eyJhbGciOiJIUzI1NiJ9 alone is just a header',
    'https://example.com/search?q=password&page=2',
    '',
  ]
  for (const text of negatives) {
    it(`finds nothing in ${JSON.stringify(text.slice(0, 48))}`, () => {
      assert.deepEqual(findCredentials(text), [])
    })
  }
})
