import assert from 'node:assert/strict'
import { createServer, createUser } from '@nats-io/nkeys'
import { loadConfig } from '../../src/assembly.js'
import { ColonyError } from '../../src/errors.js'

const seedOf = (pair: { getSeed(): Uint8Array }): string => new TextDecoder().decode(pair.getSeed())

/** Loads `nats` overrides expecting one config_invalid error; returns its message. */
function refused (nats: Record<string, unknown>): string {
  let caught: unknown
  try {
    loadConfig({ env: {}, overrides: { nats } })
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof ColonyError, `expected config_invalid for ${JSON.stringify(nats)}, got ${String(caught)}`)
  assert.equal(caught.code, 'config_invalid')
  return caught.message
}

describe('config: the nats section', () => {
  const userSeed = seedOf(createUser())

  it('accepts each way to authenticate alone, labels and bridge rules', () => {
    for (const auth of [{ user: 'colony', password: 's3cret' }, { token: 't0ken' }, { nkeySeed: userSeed }, { credsFile: '/etc/colony/nats.creds' }]) {
      const config = loadConfig({ env: {}, overrides: { nats: { url: 'nats://127.0.0.1:4222', ...auth } } })
      assert.equal(config.nats.url, 'nats://127.0.0.1:4222')
    }
    const config = loadConfig({ env: {}, overrides: { nats: { lattice: 'edge_1', labels: 'zone=eu, tier=', bridge: 'sensors/# <-> sensors.>; alerts/+ -> colony.alerts.*' } } })
    assert.equal(config.nats.lattice, 'edge_1')
  })

  it('refuses two ways to authenticate at once, naming both', () => {
    assert.match(refused({ user: 'colony', password: 's3cret', token: 't0ken' }), /nats: use one way to authenticate, not user\/password and token/)
    assert.match(refused({ token: 't0ken', nkeySeed: userSeed }), /not token and nkeySeed/)
    assert.match(refused({ nkeySeed: userSeed, credsFile: '/etc/colony/nats.creds' }), /not nkeySeed and credsFile/)
  })

  it('refuses a user without a password, and a password without a user', () => {
    assert.match(refused({ user: 'colony' }), /nats\.user and nats\.password go together/)
    assert.match(refused({ password: 's3cret' }), /nats\.user and nats\.password go together/)
  })

  it('refuses a seed that is not a user nkey seed, without repeating it', () => {
    const serverSeed = seedOf(createServer())
    for (const seed of ['SUnot-a-seed', serverSeed, `${userSeed}A`]) {
      const message = refused({ nkeySeed: seed })
      assert.match(message, /nats\.nkeySeed must be a user nkey seed/)
      assert.ok(!message.includes(seed), 'the seed is a secret')
    }
  })

  it('refuses a user seed whose checksum is wrong (a typo), without repeating it', () => {
    // One character changed: still SU + 56 base32 characters, but not a key nkeys can decode.
    const typo = `${userSeed.slice(0, 20)}${userSeed[20] === 'A' ? 'B' : 'A'}${userSeed.slice(21)}`
    const message = refused({ nkeySeed: typo })
    assert.match(message, /nats\.nkeySeed/)
    assert.ok(!message.includes(typo), 'the seed is a secret')
  })

  it('refuses labels that set hostcore.* or are not key=value', () => {
    assert.match(refused({ labels: 'hostcore.x=1' }), /nats\.labels: label "hostcore\.x": hostcore\.\* labels are set by the host itself/)
    assert.match(refused({ labels: 'zone=eu,novalue' }), /nats\.labels: label "novalue" must be key=value/)
  })

  it('refuses bridge rules with mismatched wildcards or reserved targets', () => {
    assert.match(refused({ bridge: 'a/+ <-> b.>' }), /nats\.bridge: bridge rule "a\/\+ .* b\.>": both sides need the same wildcards/)
    assert.match(refused({ bridge: 'system/# <- x.>' }), /nats\.bridge: .*messages from NATS may not be published on \$, system\/ or agents\//)
    assert.match(refused({ bridge: 'ok/# <-> ok.>; a/# -> wasmbus.>' }), /nats\.bridge: .*MQTT messages may not be published on .*wasmbus\./)
    assert.match(refused({ bridge: 'a/b' }), /nats\.bridge: bridge rule "a\/b" needs "<mqtt filter> <-> <nats subject>"/)
  })

  it('refuses a lattice name that is not one subject token of A-Z a-z 0-9 _ -', () => {
    for (const lattice of ['my lattice', 'a.b', 'wild*', '', 'x'.repeat(65)]) {
      assert.match(refused({ lattice }), /nats\.lattice must be (1 to 64 characters of A-Z a-z 0-9 _ -|a non-empty string)/, lattice)
    }
  })

  it('reports every problem of one nats section in one error', () => {
    const message = refused({ user: 'colony', labels: 'novalue', bridge: 'a/+ <-> b.>', lattice: 'a.b' })
    for (const part of ['nats.user and nats.password go together', 'nats.labels:', 'nats.bridge:', 'nats.lattice must be']) {
      assert.ok(message.includes(part), `"${part}" missing from:\n${message}`)
    }
  })
})
