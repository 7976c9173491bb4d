import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startColony, type TestColony } from '../../helpers/runtime.js'
import { as, signup, type Account } from '../../helpers/identity.js'
import { assertError, create, fixture } from '../../helpers/components.js'
import { request } from '../../helpers/http.js'
import type { Identity } from '../../../src/auth/identity.js'

/** The identity a REST route hands the domain for this account (a member of its own team only). */
function identityOf (a: Account): Identity {
  return { kind: 'user', userId: a.user_id, email: a.email, name: a.name, teamId: a.team_id, isAdmin: false, teams: new Set([a.team_id]) }
}

const processor = (componentId: string, componentVersion = 0) =>
  ({ name: 'audit', version: '1.0.0', description: 'keeps every entry', specs: { type: 'OplogProcessor', componentId, componentVersion } })
const library = (name = 'lib', version = '0.1.0') => ({ name, version, specs: { type: 'Library' } })

function refusal (work: () => unknown): { code: string, status: number } {
  try {
    work()
  } catch (err) {
    const e = err as { code?: string, status?: number }
    return { code: e.code ?? 'none', status: e.status ?? 0 }
  }
  assert.fail('expected a refusal')
}

describe('REST: Golem plugins (/v1/accounts/{id}/plugins, /v1/plugins/{id}, component installations)', function () {
  this.timeout(30_000)
  let colony: TestColony
  let base: string
  let alice: Account
  let bob: Account
  let aliceComponent: string
  let bobComponent: string
  const rows = (table: string): number => (colony.rt.identity.store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n

  before(async () => {
    colony = await startColony({ config: { auth: { mode: 'required' } } })
    base = colony.rt.urls.http
    ;[alice, bob] = [await signup(base, 'Alice'), await signup(base, 'Bob')]
    const adder = await fixture('adder')
    aliceComponent = await create(base, 'audit-sink', adder, { token: alice.token })
    bobComponent = await create(base, 'bob-sink', adder, { token: bob.token })
  })
  after(async () => { await colony.close() })

  it('registers, lists, gets and deletes plugins of every kind; the account is the team ("me", the user id or the team id)', async () => {
    const registered = await as(alice.token, 'POST', `${base}/v1/accounts/me/plugins`, processor(aliceComponent))
    assert.equal(registered.status, 200, JSON.stringify(registered.body))
    const plugin = registered.body
    assert.match(plugin.id, /^[0-9a-f-]{36}$/)
    assert.deepEqual({ ...plugin, id: undefined, createdAt: undefined }, {
      id: undefined, createdAt: undefined, name: 'audit', version: '1.0.0', description: 'keeps every entry', icon: '', homepage: '',
      specs: { type: 'OplogProcessor', componentId: aliceComponent, componentVersion: 0 }, scope: { type: 'Global' }, accountId: alice.team_id, deleted: false,
    })
    const transformer = await as(alice.token, 'POST', `${base}/v1/accounts/${alice.user_id}/plugins`, {
      name: 'kv-wrap', version: '2', homepage: 'https://example.test/kv', icon: 'aGVsbG8=',
      specs: { type: 'ComponentTransformer', validateUrl: 'http://127.0.0.1:1/validate', transformUrl: 'https://example.test/t', jsonSchema: '{}' },
    })
    assert.equal(transformer.status, 200, JSON.stringify(transformer.body))
    assert.deepEqual(transformer.body.specs, { type: 'ComponentTransformer', validateUrl: 'http://127.0.0.1:1/validate', transformUrl: 'https://example.test/t', jsonSchema: '{}' })
    const lib = await as(alice.token, 'POST', `${base}/v1/accounts/${alice.team_id}/plugins`, library())
    assert.equal(lib.status, 200, JSON.stringify(lib.body))

    const listed = await as(alice.token, 'GET', `${base}/v1/accounts/${alice.team_id}/plugins`)
    assert.equal(listed.status, 200)
    assert.deepEqual(listed.body.map((p: { name: string }) => p.name), ['audit', 'kv-wrap', 'lib'])
    assert.deepEqual((await as(alice.token, 'GET', `${base}/v1/plugins/${plugin.id}`)).body, plugin)

    const deleted = await as(alice.token, 'DELETE', `${base}/v1/plugins/${lib.body.id}`)
    assert.deepEqual([deleted.status, deleted.body], [200, { pluginId: lib.body.id, deleted: true }])
    assertError(await as(alice.token, 'GET', `${base}/v1/plugins/${lib.body.id}`), 404, 'plugin_not_found')
    assertError(await as(alice.token, 'DELETE', `${base}/v1/plugins/${lib.body.id}`), 404, 'plugin_not_found')
    assert.deepEqual((await as(alice.token, 'GET', `${base}/v1/accounts/me/plugins`)).body.map((p: { name: string }) => p.name), ['audit', 'kv-wrap'])
    // Deleted: the name and version are free again.
    assert.equal((await as(alice.token, 'POST', `${base}/v1/accounts/me/plugins`, library())).status, 200)
  })

  it('keeps teams apart: another team\'s account, plugins, components and installations are 404', async () => {
    const mine = (await as(alice.token, 'POST', `${base}/v1/accounts/me/plugins`, library('private'))).body
    assertError(await as(bob.token, 'GET', `${base}/v1/accounts/${alice.team_id}/plugins`), 404, 'account_not_found')
    assertError(await as(bob.token, 'GET', `${base}/v1/accounts/${alice.user_id}/plugins`), 404, 'account_not_found')
    assertError(await as(bob.token, 'POST', `${base}/v1/accounts/${alice.team_id}/plugins`, library('intruder')), 404, 'account_not_found')
    assertError(await as(bob.token, 'GET', `${base}/v1/plugins/${mine.id}`), 404, 'plugin_not_found')
    assertError(await as(bob.token, 'DELETE', `${base}/v1/plugins/${mine.id}`), 404, 'plugin_not_found')
    assert.ok(!(await as(bob.token, 'GET', `${base}/v1/accounts/me/plugins`)).body.some((p: { id: string }) => p.id === mine.id))
    // An oplog processor must be a component of the same account.
    const foreign = assertError(await as(bob.token, 'POST', `${base}/v1/accounts/me/plugins`, processor(aliceComponent)), 404, 'component_not_found')
    assert.match(foreign, /no component/)
    // Bob cannot install Alice's plugin on his component, nor touch Alice's component.
    assertError(await as(bob.token, 'POST', `${base}/v1/components/${bobComponent}/latest/plugins/installs`, { name: 'private', version: '0.1.0', priority: 0 }), 404, 'plugin_not_found')
    assertError(await as(bob.token, 'GET', `${base}/v1/components/${aliceComponent}/latest/plugins/installs`), 404, 'component_not_found')
    const installed = await as(alice.token, 'POST', `${base}/v1/components/${aliceComponent}/latest/plugins/installs`, { name: 'private', version: '0.1.0', priority: 1 })
    assert.equal(installed.status, 200, JSON.stringify(installed.body))
    assertError(await as(bob.token, 'PUT', `${base}/v1/components/${aliceComponent}/latest/plugins/installs/${installed.body.id}`, { priority: 2 }), 404, 'plugin_installation_not_found')
    assertError(await as(bob.token, 'DELETE', `${base}/v1/components/${aliceComponent}/latest/plugins/installs/${installed.body.id}`), 404, 'plugin_installation_not_found')
    // resolveInstallation, as the worker routes call it.
    assert.deepEqual(refusal(() => colony.rt.services.plugins.resolveInstallation(identityOf(bob), aliceComponent, installed.body.id)), { code: 'plugin_installation_not_found', status: 404 })
    assert.equal(colony.rt.services.plugins.resolveInstallation(identityOf(alice), aliceComponent, installed.body.id).pluginId, mine.id)
  })

  it('installs, lists by priority, updates and uninstalls; resolves an installation for a worker of its component only', async () => {
    const install = (body: unknown) => as(alice.token, 'POST', `${base}/v1/components/${aliceComponent}/latest/plugins/installs`, body)
    const url = `${base}/v1/components/${aliceComponent}/latest/plugins/installs`
    await as(alice.token, 'POST', `${base}/v1/accounts/me/plugins`, library('first', '1'))
    await as(alice.token, 'POST', `${base}/v1/accounts/me/plugins`, library('second', '1'))
    const before = (await as(alice.token, 'GET', url)).body.length
    const a = await install({ name: 'second', version: '1', priority: 20, parameters: { endpoint: 'http://x', signals: 'traces' } })
    assert.equal(a.status, 200, JSON.stringify(a.body))
    const b = await install({ name: 'first', version: '1', priority: -5 })
    assert.deepEqual({ ...a.body, id: undefined, pluginId: undefined }, { id: undefined, pluginId: undefined, name: 'second', version: '1', priority: 20, parameters: { endpoint: 'http://x', signals: 'traces' } })
    const listed = (await as(alice.token, 'GET', url)).body as Array<{ id: string, priority: number }>
    assert.equal(listed.length, before + 2)
    assert.deepEqual(listed.map((i) => i.priority), [...listed.map((i) => i.priority)].sort((x, y) => x - y), 'lowest priority first')
    assertError(await install({ name: 'first', version: '1', priority: 3 }), 409, 'plugin_already_installed')
    assertError(await install({ name: 'first', version: '9', priority: 3 }), 404, 'plugin_not_found')

    const updated = await as(alice.token, 'PUT', `${url}/${a.body.id}`, { priority: -10, parameters: { endpoint: 'http://y' } })
    assert.deepEqual([updated.status, updated.body.priority, updated.body.parameters], [200, -10, { endpoint: 'http://y' }])
    assert.equal((await as(alice.token, 'GET', url)).body[0].id, a.body.id)

    const activation = colony.rt.services.plugins.resolveInstallation(identityOf(alice), aliceComponent, b.body.id)
    assert.deepEqual(activation, { installationId: b.body.id, pluginId: b.body.pluginId, name: 'first', version: '1', kind: 'Library', parameters: {} })
    // A new worker starts with every installation active, in priority order; the runtime itself (no identity) sees them too.
    const initial = colony.rt.services.plugins.initialActivations(identityOf(alice), aliceComponent)
    assert.deepEqual(initial.map((i) => i.installationId), (await as(alice.token, 'GET', url)).body.map((i: { id: string }) => i.id))
    assert.deepEqual(colony.rt.services.plugins.initialActivations(undefined, aliceComponent), initial)
    assert.deepEqual(refusal(() => colony.rt.services.plugins.initialActivations(identityOf(bob), aliceComponent)), { code: 'component_not_found', status: 404 })
    // Another component's installation, and an unknown one, are not this component's.
    const other = await create(base, 'other', await fixture('adder'), { token: alice.token })
    assert.deepEqual(refusal(() => colony.rt.services.plugins.resolveInstallation(identityOf(alice), other, b.body.id)), { code: 'plugin_installation_not_found', status: 404 })
    assertError(await as(alice.token, 'DELETE', `${base}/v1/components/${other}/latest/plugins/installs/${b.body.id}`), 404, 'plugin_installation_not_found')

    assert.deepEqual((await as(alice.token, 'DELETE', `${url}/${b.body.id}`)).body, { installationId: b.body.id, deleted: true })
    assertError(await as(alice.token, 'DELETE', `${url}/${b.body.id}`), 404, 'plugin_installation_not_found')
    assert.deepEqual(refusal(() => colony.rt.services.plugins.resolveInstallation(identityOf(alice), aliceComponent, b.body.id)), { code: 'plugin_installation_not_found', status: 404 })
  })

  it('a deleted plugin\'s installations stay and still resolve (Golem\'s soft delete); a deleted component takes its installations', async () => {
    const component = await create(base, 'short-lived', await fixture('adder'), { token: alice.token })
    const plugin = (await as(alice.token, 'POST', `${base}/v1/accounts/me/plugins`, library('doomed', '1'))).body
    const url = `${base}/v1/components/${component}/latest/plugins/installs`
    const installed = (await as(alice.token, 'POST', url, { name: 'doomed', version: '1', priority: 0 })).body
    assert.equal((await as(alice.token, 'DELETE', `${base}/v1/plugins/${plugin.id}`)).status, 200)
    assert.deepEqual((await as(alice.token, 'GET', url)).body.map((i: { id: string }) => i.id), [installed.id])
    assert.equal(colony.rt.services.plugins.resolveInstallation(identityOf(alice), component, installed.id).pluginId, plugin.id)
    // But nothing new can be installed from it.
    const again = await create(base, 'short-lived-2', await fixture('adder'), { token: alice.token })
    assertError(await as(alice.token, 'POST', `${base}/v1/components/${again}/latest/plugins/installs`, { name: 'doomed', version: '1', priority: 0 }), 404, 'plugin_not_found')

    assert.equal((await as(alice.token, 'DELETE', `${base}/v1/components/${component}`)).status, 200)
    assert.equal(colony.rt.identity.store.plugins.installation(installed.id), undefined)
    assertError(await as(alice.token, 'GET', url), 404, 'component_not_found')
  })

  it('a plugin scoped to one component installs there only', async () => {
    const elsewhere = await create(base, 'elsewhere', await fixture('adder'), { token: alice.token })
    const scoped = await as(alice.token, 'POST', `${base}/v1/accounts/me/plugins`, { ...library('scoped', '1'), scope: { type: 'Component', componentId: aliceComponent } })
    assert.deepEqual([scoped.status, scoped.body.scope], [200, { type: 'Component', componentId: aliceComponent }])
    assertError(await as(alice.token, 'POST', `${base}/v1/components/${elsewhere}/latest/plugins/installs`, { name: 'scoped', version: '1', priority: 0 }), 404, 'plugin_not_found')
    assert.equal((await as(alice.token, 'POST', `${base}/v1/components/${aliceComponent}/latest/plugins/installs`, { name: 'scoped', version: '1', priority: 0 })).status, 200)
    assertError(await as(alice.token, 'POST', `${base}/v1/accounts/me/plugins`, { ...library('scoped', '2'), scope: { type: 'Component', componentId: bobComponent } }), 404, 'component_not_found')
  })

  it('refuses bad input with a code naming the field, and stores nothing', async () => {
    const plugins = rows('plugins')
    const installs = rows('plugin_installations')
    const url = `${base}/v1/accounts/me/plugins`
    const cases: Array<[unknown, number, string, string?]> = [
      [{ version: '1', specs: { type: 'App' } }, 400, 'invalid_body', 'name'],
      [{ name: 5, version: '1', specs: { type: 'App' } }, 400, 'invalid_body', 'name'],
      [{ name: 'x', version: '1', specs: { type: 'Nope' } }, 400, 'invalid_body', 'specs'],
      [{ name: 'x', version: '1', specs: 'App' }, 400, 'invalid_body', 'specs'],
      [{ name: 'bad name!', version: '1', specs: { type: 'App' } }, 400, 'invalid_body', 'name'],
      [{ name: 'x', version: '', specs: { type: 'App' } }, 400, 'invalid_body', 'version'],
      [{ name: 'x', version: '1', homepage: 'ftp://h', specs: { type: 'App' } }, 400, 'invalid_body', 'homepage'],
      [{ name: 'x', version: '1', specs: { type: 'OplogProcessor', componentVersion: 0 } }, 400, 'invalid_body', 'specs.componentId'],
      [{ name: 'x', version: '1', specs: { type: 'OplogProcessor', componentId: aliceComponent } }, 400, 'invalid_body', 'specs.componentVersion'],
      [{ name: 'x', version: '1', specs: { type: 'OplogProcessor', componentId: aliceComponent, componentVersion: -1 } }, 400, 'invalid_body', 'specs'],
      [{ name: 'x', version: '1', specs: { type: 'OplogProcessor', componentId: '00000000-0000-0000-0000-000000000000', componentVersion: 0 } }, 404, 'component_not_found', 'specs.componentId'],
      [{ name: 'x', version: '1', specs: { type: 'OplogProcessor', componentId: aliceComponent, componentVersion: 7 } }, 404, 'revision_not_found', 'specs.componentVersion'],
      [{ name: 'x', version: '1', specs: { type: 'ComponentTransformer', validateUrl: 'not a url', transformUrl: 'http://t' } }, 400, 'invalid_body', 'specs.validateUrl'],
      [{ name: 'x', version: '1', specs: { type: 'ComponentTransformer', validateUrl: 'http://v' } }, 400, 'invalid_body', 'specs.transformUrl'],
      [{ name: 'x', version: '1', specs: { type: 'App' }, scope: { type: 'Component' } }, 400, 'invalid_body', 'scope'],
      [processor(aliceComponent), 409, 'plugin_exists'],
    ]
    for (const [body, status, code, field] of cases) {
      const res = await as(alice.token, 'POST', url, body)
      assertError(res, status, code, JSON.stringify(body))
      if (field !== undefined) assert.equal(res.body.error.field, field, JSON.stringify(res.body))
    }
    assertError(await request('POST', url, '{"name": "x",', { authorization: `Bearer ${alice.token}` }), 400, 'invalid_json')
    assertError(await request('GET', url), 401, 'unauthorized')
    assertError(await as(alice.token, 'GET', `${base}/v1/accounts/nobody/plugins`), 404, 'account_not_found')
    assertError(await as(alice.token, 'GET', `${base}/v1/plugins/not-a-plugin`), 404, 'plugin_not_found')
    const installs_ = `${base}/v1/components/${aliceComponent}/latest/plugins/installs`
    assertError(await as(alice.token, 'POST', installs_, { name: 'audit', version: '1.0.0' }), 400, 'invalid_body')
    assertError(await as(alice.token, 'POST', installs_, { name: 'audit', version: '1.0.0', priority: 1.5 }), 400, 'invalid_body')
    assertError(await as(alice.token, 'POST', installs_, { name: 'audit', version: '1.0.0', priority: 0, parameters: { a: 1 } }), 400, 'invalid_body')
    assertError(await as(alice.token, 'POST', `${base}/v1/components/nope/latest/plugins/installs`, { name: 'audit', version: '1.0.0', priority: 0 }), 404, 'component_not_found')
    assertError(await as(alice.token, 'PUT', `${installs_}/nope`, { priority: 0 }), 404, 'plugin_installation_not_found')
    assertError(await as(alice.token, 'PUT', `${installs_}/nope`, { priority: 'high' }), 400, 'invalid_body')
    assert.deepEqual([rows('plugins'), rows('plugin_installations')], [plugins, installs])
  })
})

describe('plugins survive a restart (real SQLite file)', function () {
  this.timeout(30_000)
  let dir: string
  let colony: TestColony | undefined

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'colony-plugins-')) })
  afterEach(async () => {
    await colony?.close()
    colony = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  it('keeps plugins, deletions and installations, and resolves the same installation after the restart', async () => {
    colony = await startColony({ config: { data: { dir }, auth: { mode: 'required' } } })
    let base = colony.rt.urls.http
    const alice = await signup(base, 'Restarter')
    const component = await create(base, 'durable-sink', await fixture('adder'), { token: alice.token })
    const kept = (await as(alice.token, 'POST', `${base}/v1/accounts/me/plugins`, processor(component))).body
    const gone = (await as(alice.token, 'POST', `${base}/v1/accounts/me/plugins`, library('gone', '1'))).body
    const installed = (await as(alice.token, 'POST', `${base}/v1/components/${component}/latest/plugins/installs`, { name: 'audit', version: '1.0.0', priority: 3, parameters: { k: 'v' } })).body
    assert.equal((await as(alice.token, 'DELETE', `${base}/v1/plugins/${gone.id}`)).status, 200)
    await colony.close()

    colony = await startColony({ config: { data: { dir }, auth: { mode: 'required' } } })
    base = colony.rt.urls.http
    assert.deepEqual((await as(alice.token, 'GET', `${base}/v1/plugins/${kept.id}`)).body, kept)
    assertError(await as(alice.token, 'GET', `${base}/v1/plugins/${gone.id}`), 404, 'plugin_not_found')
    assert.deepEqual((await as(alice.token, 'GET', `${base}/v1/components/${component}/latest/plugins/installs`)).body, [installed])
    assert.deepEqual(colony.rt.services.plugins.resolveInstallation(identityOf(alice), component, installed.id),
      { installationId: installed.id, pluginId: kept.id, name: 'audit', version: '1.0.0', kind: 'OplogProcessor', parameters: { k: 'v' } })
  })
})
