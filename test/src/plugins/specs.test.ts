import assert from 'node:assert/strict'
import { checkCreation, checkParameters, checkPriority } from '../../../src/plugins/specs.js'
import { createAcl } from '../../../src/acl.js'
import type { Identity } from '../../../src/auth/identity.js'
import type { PluginCreation } from '../../../src/plugins.js'

function fieldOf (work: () => unknown): string {
  try {
    work()
  } catch (err) {
    const e = err as { code: string, details?: { field?: string } }
    assert.equal(e.code, 'invalid_body')
    return e.details?.field ?? ''
  }
  assert.fail('expected invalid_body')
}

describe('plugins: registration checks (src/plugins/specs.ts)', () => {
  const base: PluginCreation = { name: 'p', version: '1.0.0', specs: { type: 'App' } }

  it('keeps only the fields a kind has, defaults the scope to Global', () => {
    assert.deepEqual(checkCreation({ ...base, specs: { type: 'OplogProcessor', componentId: 'c', componentVersion: 2, validateUrl: 'http://x' } }),
      { specs: { type: 'OplogProcessor', componentId: 'c', componentVersion: 2 }, scope: { type: 'Global' } })
    assert.deepEqual(checkCreation({ ...base, specs: { type: 'Library', componentId: 'c' }, scope: { type: 'Component', componentId: 'c' } }),
      { specs: { type: 'Library' }, scope: { type: 'Component', componentId: 'c' } })
    assert.deepEqual(checkCreation({ ...base, specs: { type: 'ComponentTransformer', validateUrl: 'https://v', transformUrl: 'http://t:8080/x', providedWitPackage: 'pkg' } }).specs,
      { type: 'ComponentTransformer', providedWitPackage: 'pkg', validateUrl: 'https://v', transformUrl: 'http://t:8080/x' })
  })

  it('names the field it refuses', () => {
    assert.equal(fieldOf(() => checkCreation({ ...base, name: '' })), 'name')
    assert.equal(fieldOf(() => checkCreation({ ...base, name: '-x' })), 'name')
    assert.equal(fieldOf(() => checkCreation({ ...base, name: 'x'.repeat(129) })), 'name')
    assert.equal(fieldOf(() => checkCreation({ ...base, version: 'a b' })), 'version')
    assert.equal(fieldOf(() => checkCreation({ ...base, homepage: 'javascript:alert(1)' })), 'homepage')
    assert.equal(fieldOf(() => checkCreation({ ...base, specs: { type: 'Other' as 'App' } })), 'specs.type')
    assert.equal(fieldOf(() => checkCreation({ ...base, specs: { type: 'OplogProcessor', componentId: 'c', componentVersion: 1.5 } })), 'specs.componentVersion')
    assert.equal(fieldOf(() => checkCreation({ ...base, specs: { type: 'ComponentTransformer', validateUrl: 'file:///etc/passwd', transformUrl: 'http://t' } })), 'specs.validateUrl')
    assert.equal(fieldOf(() => checkCreation({ ...base, scope: { type: 'Component', componentId: '' } })), 'scope')
    assert.equal(fieldOf(() => checkParameters({ a: 1 as unknown as string })), 'parameters.a')
    assert.equal(fieldOf(() => checkPriority(2 ** 31)), 'priority')
    assert.equal(checkPriority(-(2 ** 31)), -(2 ** 31))
  })
})

describe('plugins: the ACL of plugin feeds (src/acl.ts)', () => {
  const who = (teams: string[], isAdmin = false): Identity =>
    ({ kind: 'api_key', userId: 'u', email: 'u@x', name: 'u', teamId: teams[0] ?? 't', isAdmin, teams: new Set(teams) })
  const acl = createAcl({ teamOf: () => undefined }, 'homeassistant', { teamOf: (id) => (id === 'p1' ? 'team-a' : undefined) })

  it('lets the plugin\'s team (and admins) subscribe to and receive its feed, and nobody else', () => {
    assert.equal(acl.subscribe(who(['team-a']), 'plugins/p1/oplog'), true)
    assert.equal(acl.subscribe(who(['team-a']), 'plugins/p1/#'), true)
    assert.equal(acl.forward(who(['team-a']), 'plugins/p1/oplog'), true)
    assert.equal(acl.subscribe(who(['team-b']), 'plugins/p1/oplog'), false)
    assert.equal(acl.forward(who(['team-b']), 'plugins/p1/oplog'), false)
    for (const filter of ['plugins/+/oplog', 'plugins/#', 'plugins/unknown/oplog', 'plugins//oplog']) assert.equal(acl.subscribe(who(['team-a']), filter), false, filter)
    assert.equal(acl.subscribe(who([], true), 'plugins/#'), true)
    assert.equal(acl.forward(who([], true), 'plugins/p1/oplog'), true)
  })
})
