import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { channelKey, SecretBox, sign, verify } from '../../../src/channels.js'
import { ColonyError } from '../../../src/errors.js'

describe('channels: secrets at rest and webhook signatures', () => {
  const key = Buffer.alloc(32, 7)

  it('seals each value with a fresh nonce (base64 of nonce, ciphertext, tag) and opens it again', () => {
    const box = new SecretBox(key)
    const a = box.seal('https://hooks.example/T0/B0/secret')
    const b = box.seal('https://hooks.example/T0/B0/secret')
    assert.notEqual(a, b, 'the same secret never looks the same twice')
    assert.equal(Buffer.from(a, 'base64').length, 12 + 'https://hooks.example/T0/B0/secret'.length + 16)
    assert.equal(box.open(a), 'https://hooks.example/T0/B0/secret')
    assert.deepEqual(box.openAll(box.sealAll({ bot_token: 't', chat_id: '1' })), { bot_token: 't', chat_id: '1' })
  })

  it('refuses a changed value or another key (the GCM tag), never a silently wrong secret', () => {
    const sealed = new SecretBox(key).seal('token')
    const raw = Buffer.from(sealed, 'base64')
    raw[14] = (raw[14] as number) ^ 1
    assert.throws(() => new SecretBox(key).open(raw.toString('base64')))
    assert.throws(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed))
    assert.throws(() => new SecretBox(Buffer.alloc(16)), ColonyError)
  })

  it('generates the key once into the data dir (0600) and reads it back; a configured key wins; a bad file is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'colony-channel-key-'))
    try {
      const first = channelKey('', dir)
      assert.equal(first.length, 32)
      assert.equal(statSync(join(dir, 'channels.key')).mode & 0o777, 0o600)
      assert.deepEqual(channelKey('', dir), first, 'the same key after a restart')
      assert.equal(readFileSync(join(dir, 'channels.key'), 'utf8').trim(), first.toString('hex'))
      assert.deepEqual(channelKey('ab'.repeat(32), dir), Buffer.alloc(32, 0xab))
      writeFileSync(join(dir, 'channels.key'), 'short\n')
      assert.throws(() => channelKey('', dir), (err: ColonyError) => err.code === 'data_dir_unusable')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('signs as Wrenn: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>, verified in constant time', () => {
    const body = '{"event":"capsule.created"}'
    const want = `sha256=${createHmac('sha256', 'whsec').update(`1700000000.${body}`).digest('hex')}`
    assert.equal(sign('whsec', '1700000000', body), want)
    assert.ok(verify('whsec', '1700000000', body, want))
    assert.ok(!verify('whsec', '1700000001', body, want), 'another timestamp')
    assert.ok(!verify('whsec', '1700000000', `${body} `, want), 'another body')
    assert.ok(!verify('other', '1700000000', body, want), 'another secret')
    assert.ok(!verify('whsec', '1700000000', body, 'sha256=00'), 'a short signature')
  })
})
