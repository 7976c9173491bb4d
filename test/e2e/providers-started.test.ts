import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startColony, type TestColony } from '../helpers/runtime.js'
import { signup, type Account } from '../helpers/identity.js'
import { call, create, fixture, invokeOk, scale } from '../helpers/components.js'
import { startProvider, stopProvider } from '../../src/components/provider-control.js'
import type { Identity } from '../../src/auth/identity.js'
import { Store } from '../../src/store/index.js'

/** The identity a REST route would hand the domain for this account (a member of its own team only). */
function identityOf (a: Account): Identity {
  return { kind: 'user', userId: a.user_id, email: a.email, name: a.name, teamId: a.team_id, isAdmin: false, teams: new Set([a.team_id]) }
}

async function refusal (work: Promise<unknown>): Promise<{ code: string, message: string }> {
  try {
    await work
  } catch (err) {
    const e = err as { code?: string, message: string }
    return { code: e.code ?? 'none', message: e.message }
  }
  assert.fail('expected a refusal')
}

/** `startProvider` / `stopProvider`: the one domain entry the NATS control interface uses, and a REST route can. */
describe('providers started at run time, for a team or for the host', () => {
  let dir: string
  let colony: TestColony | undefined

  const start = async (): Promise<TestColony> => {
    colony = await startColony({ config: { data: { dir } } })
    return colony
  }
  const rows = (c: TestColony): Array<[string, string | null, string]> => c.rt.identity.store.startedProviders.all().map((r) => [r.id, r.teamId, r.origin])

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'colony-providers-'))
  })
  afterEach(async () => {
    await colony?.close()
    colony = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  it('starts one for a team (its actor, its row), refuses what it must, and stops it only for that team', async () => {
    const c = await start()
    const base = c.rt.urls.http
    const [a, b] = [await signup(base), await signup(base)]
    const [asA, asB] = [identityOf(a), identityOf(b)]
    const { system, services } = c.rt

    const info = await startProvider(system, services.providers,
      { id: 'kv-a', ref: 'builtin:keyvalue', annotations: { tier: 'gold' }, team: a.team_id, origin: 'rest' }, { as: asA })
    assert.deepEqual({ state: info.state, team: info.team, kind: info.kind, protected: info.protected },
      { state: 'running', team: a.team_id, kind: 'provider:keyvalue', protected: false })
    assert.equal(system.get('kv-a', asB), undefined, 'another team does not see it')
    assert.deepEqual(rows(c), [['kv-a', a.team_id, 'rest']])
    assert.deepEqual(services.providers.describe('kv-a'), { ref: 'builtin:keyvalue', annotations: { tier: 'gold' } })

    // A component of that team links to it by name, and counts through it.
    const counter = await create(base, 'counter', await fixture('counter'), { token: a.token })
    const linked = await call('PUT', `${base}/v1/links`,
      { source_id: counter, target: 'kv-a', wit_namespace: 'wasi', wit_package: 'keyvalue', interfaces: ['store'] }, { token: a.token })
    assert.equal(linked.status, 200, JSON.stringify(linked.body))
    assert.equal((await scale(base, counter, 1, { token: a.token })).status, 200)
    assert.equal(await invokeOk(base, counter, 'increment', [], { token: a.token }), 1)

    const again = { id: 'kv-a', ref: 'builtin:keyvalue', team: a.team_id, origin: 'rest' }
    assert.deepEqual(await refusal(startProvider(system, services.providers, again, { as: asA })),
      { code: 'provider_running', message: 'provider with that ID is already running' })
    assert.equal((await refusal(startProvider(system, services.providers, { ...again, team: b.team_id }, { as: asB }))).code, 'actor_name_taken',
      'the name is taken on this host, whoever owns it')
    assert.equal((await refusal(startProvider(system, services.providers, { ...again, id: 'kv-b' }, { as: asB }))).code, 'forbidden',
      'not for a team of someone else')
    assert.equal((await refusal(startProvider(system, services.providers, { ...again, id: 'main-actor' }, { as: asA }))).code, 'actor_name_taken')
    assert.equal((await refusal(startProvider(system, services.providers, { ...again, id: 'kv/1' }, { as: asA }))).code, 'invalid_body')
    const oci = await refusal(startProvider(system, services.providers, { ...again, id: 'kv-oci', ref: 'ghcr.io/wasmcloud/keyvalue-redis:0.28.1' }, { as: asA }))
    assert.equal(oci.code, 'invalid_body')
    assert.match(oci.message, /OCI pulls are not configured/)
    assert.equal(system.get('kv-oci'), undefined)
    assert.equal(services.providers.describe('kv-oci'), undefined)
    assert.deepEqual(rows(c), [['kv-a', a.team_id, 'rest']], 'nothing refused was saved')

    assert.deepEqual(await refusal(stopProvider(system, services.providers, 'kv-a', { as: asB })),
      { code: 'provider_not_found', message: 'provider with that ID is not running' })
    assert.equal((await refusal(stopProvider(system, services.providers, 'keyvalue-provider', { as: asA }))).code, 'actor_protected')
    await stopProvider(system, services.providers, 'kv-a', { as: asA })
    assert.equal(system.get('kv-a'), undefined)
    assert.deepEqual(rows(c), [])
    assert.equal(services.providers.describe('kv-a'), undefined)
    assert.equal((await refusal(stopProvider(system, services.providers, 'kv-a', { as: asA }))).code, 'provider_not_found')

    // The host's own provider (started over NATS, no team): every team may use it, only a platform admin may stop it.
    await startProvider(system, services.providers, { id: 'kv-host', ref: 'builtin:keyvalue', team: null, origin: 'nats' })
    const byMember = await call('DELETE', `${base}/v1/providers/kv-host`, undefined, { token: a.token })
    assert.deepEqual([byMember.status, byMember.body.error?.code], [403, 'forbidden'])
    assert.equal(system.get('kv-host')?.state, 'running')
    await stopProvider(system, services.providers, 'kv-host', { as: { ...asA, isAdmin: true } })
    assert.equal(system.get('kv-host'), undefined)
  })

  it('come back at the next start with their team; a deleted actor or a team gone is forgotten', async () => {
    let c = await start()
    const a = await signup(c.rt.urls.http)
    const { system, services } = c.rt
    await startProvider(system, services.providers, { id: 'kv-team', ref: 'keyvalue', team: a.team_id, origin: 'rest' }, { as: identityOf(a) })
    await startProvider(system, services.providers, { id: 'log-host', ref: 'builtin:logging', annotations: { by: 'lattice' }, team: null, origin: 'nats' })
    await startProvider(system, services.providers, { id: 'kv-deleted', ref: 'builtin:keyvalue', team: null, origin: 'nats' })
    // Deleted by another door (REST here): forgotten as well.
    assert.equal((await call('DELETE', `${c.rt.urls.http}/api/actors/kv-deleted`)).status, 200)
    assert.deepEqual(rows(c).map(([id]) => id), ['kv-team', 'log-host'])
    await c.close()
    colony = undefined

    // A row whose team no longer exists (deleted while Colony was down).
    const store = Store.open({ file: join(dir, 'colony.db'), synchronous: 'normal' })
    store.startedProviders.put({ id: 'kv-orphan', ref: 'builtin:keyvalue', annotations: '{}', origin: 'rest', teamId: 'team-gone', startedAtMs: 1 })
    store.close()

    c = await start()
    const team = c.rt.system.get('kv-team')
    assert.deepEqual({ state: team?.state, team: team?.team, kind: team?.kind }, { state: 'running', team: a.team_id, kind: 'provider:keyvalue' })
    assert.equal(c.rt.system.get('log-host')?.state, 'running')
    assert.deepEqual(c.rt.services.providers.describe('log-host'), { ref: 'builtin:logging', annotations: { by: 'lattice' } })
    assert.equal(c.rt.system.get('kv-deleted'), undefined)
    assert.equal(c.rt.system.get('kv-orphan'), undefined)
    assert.deepEqual(rows(c), [['kv-team', a.team_id, 'rest'], ['log-host', null, 'nats']])
  })
})
