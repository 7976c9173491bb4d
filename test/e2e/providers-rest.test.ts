import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAll, startOnDataDir } from '../helpers/cli.js'
import { as, signup } from '../helpers/identity.js'

/** `GET/POST /v1/providers`, `DELETE /v1/providers/{id}`: the REST door to the start and stop `provider.start` drives over NATS. */
describe('providers over REST: started for a team, refused with codes, kept across kill -9, stopped for good', () => {
  let dataDir: string

  beforeEach(() => { dataDir = mkdtempSync(join(tmpdir(), 'colony-providers-rest-')) })
  afterEach(() => {
    killAll()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('start, list, refusals, kill -9 and restart, stop', async function () {
    this.timeout(30_000)
    const first = await startOnDataDir(dataDir)
    const [alice, bob] = [await signup(first.http, 'alice'), await signup(first.http, 'bob')]
    const providers = (token: string): Promise<any> => as(token, 'GET', `${first.http}/v1/providers`).then((r) => r.body)

    const started = await as(alice.token, 'POST', `${first.http}/v1/providers`, { provider_id: 'kv-alice', provider_ref: 'builtin:keyvalue', annotations: { tier: 'gold' } })
    assert.equal(started.status, 201, JSON.stringify(started.body))
    assert.deepEqual({ id: started.body.provider_id, state: started.body.actor.state, team: started.body.actor.team, kind: started.body.actor.kind },
      { id: 'kv-alice', state: 'running', team: alice.team_id, kind: 'provider:keyvalue' })
    const mine = (await providers(alice.token)).find((p: any) => p.provider_id === 'kv-alice')
    assert.deepEqual(mine, { provider_id: 'kv-alice', provider_ref: 'builtin:keyvalue', annotations: { tier: 'gold' }, team: alice.team_id, state: 'running', protected: false })
    assert.ok((await providers(alice.token)).some((p: any) => p.provider_id === 'keyvalue-provider' && p.protected === true), 'the built-in ones are listed too')
    assert.equal((await providers(bob.token)).some((p: any) => p.provider_id === 'kv-alice'), false, 'another team does not see it')

    // Refused, with codes, and nothing of it kept.
    const refusals: Array<[unknown, number, string]> = [
      [{ provider_id: 'kv-alice', provider_ref: 'builtin:keyvalue' }, 409, 'provider_running'],
      [{ provider_id: 'main-actor', provider_ref: 'builtin:keyvalue' }, 409, 'actor_name_taken'],
      [{ provider_id: 'kv-2', provider_ref: 'ghcr.io/wasmcloud/keyvalue-redis:0.28.1' }, 400, 'invalid_body'],
      [{ provider_id: 'kv 2', provider_ref: 'builtin:keyvalue' }, 400, 'invalid_body'],
      [{ provider_id: 'kv-2' }, 400, 'invalid_body'],
      [{ provider_id: 'kv-2', provider_ref: 'builtin:keyvalue', annotations: { n: 1 } }, 400, 'invalid_body'],
      ['not json', 400, 'invalid_json'],
    ]
    for (const [body, status, code] of refusals) {
      const res = await as(alice.token, 'POST', `${first.http}/v1/providers`, body)
      assert.deepEqual([res.status, res.body.error?.code], [status, code], JSON.stringify(body))
    }
    assert.deepEqual((await as(bob.token, 'DELETE', `${first.http}/v1/providers/kv-alice`)).body.error.code, 'provider_not_found', 'another team cannot stop it')
    assert.equal((await as(alice.token, 'DELETE', `${first.http}/v1/providers/keyvalue-provider`)).body.error.code, 'actor_protected')
    assert.equal((await as(alice.token, 'DELETE', `${first.http}/v1/providers/kv-nobody`)).status, 404)

    // Acknowledged with 201, so it survives kill -9: the next start runs it again, for the same team.
    first.child.kill('SIGKILL')
    assert.equal((await first.exited).signal, 'SIGKILL')
    const second = await startOnDataDir(dataDir)
    const again = (await as(alice.token, 'GET', `${second.http}/v1/providers`)).body.find((p: any) => p.provider_id === 'kv-alice')
    assert.deepEqual({ ref: again?.provider_ref, annotations: again?.annotations, team: again?.team, state: again?.state },
      { ref: 'builtin:keyvalue', annotations: { tier: 'gold' }, team: alice.team_id, state: 'running' })

    const stopped = await as(alice.token, 'DELETE', `${second.http}/v1/providers/kv-alice`)
    assert.deepEqual([stopped.status, stopped.body], [200, { success: true }])
    assert.equal((await as(alice.token, 'GET', `${second.http}/api/actors/kv-alice`)).status, 404)
    second.child.kill('SIGKILL')
    await second.exited
    const third = await startOnDataDir(dataDir)
    assert.equal((await as(alice.token, 'GET', `${third.http}/v1/providers`)).body.some((p: any) => p.provider_id === 'kv-alice'), false, 'a stopped provider stays stopped')
    third.child.kill('SIGTERM')
    await third.exited
  })
})
