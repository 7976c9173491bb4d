import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAll, startOnDataDir, type CliRun } from '../helpers/cli.js'
import { as, signup, withKey } from '../helpers/identity.js'
import { get, request } from '../helpers/http.js'
import { connect } from '../helpers/mqtt.js'

/** Starts the CLI on `dataDir` with credentials required and resolves once it is ready. */
async function start (dataDir: string): Promise<CliRun & { http: string, mqtt: string }> {
  const run = await startOnDataDir(dataDir)
  assert.ok(run.readyLine.includes(` dashboard ${run.http}/ `), `the ready line points to the dashboard: ${run.readyLine}`)
  return run
}

describe('what the API acknowledged survives kill -9', () => {
  let dataDir: string

  beforeEach(() => { dataDir = mkdtempSync(join(tmpdir(), 'colony-durable-')) })
  afterEach(() => {
    killAll()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('accounts, teams, members, API keys, revocations, the JWT secret, components, their scale, links, keyvalue data and retained MQTT messages survive kill -9', async function () {
    this.timeout(30_000)
    const first = await start(dataDir)
    const adminKey = /Admin API key \(shown once, keep it safe\): (col_[0-9a-f]{32})/.exec(first.stdout.join('\n'))?.[1]
    assert.ok(adminKey !== undefined, 'the first start prints a one-time admin key')
    assert.ok(!first.stdout.filter((l) => l.startsWith('{')).join('\n').includes(adminKey), 'the key is printed, never logged')
    assert.equal(statSync(join(dataDir, 'jwt.secret')).mode & 0o777, 0o600)

    const alice = await signup(first.http, 'alice')
    const bob = await signup(first.http, 'bob')
    const key = await as(alice.token, 'POST', `${first.http}/v1/api-keys`, { name: 'ci' })
    const counterBytes = readFileSync(new URL('../../../fixtures/components/counter.wasm', import.meta.url))
    const upload = async (base: string, method: string, url: string, fields: Record<string, string>): Promise<any> => {
      const form = new FormData()
      for (const [k, v] of Object.entries(fields)) form.set(k, v)
      form.set('component', new Blob([counterBytes]), 'counter.wasm')
      const res = await fetch(`${base}${url}`, { method, body: form, headers: { authorization: `Bearer ${alice.token}` } })
      assert.equal(res.status, 200)
      return await res.json()
    }
    const component = await upload(first.http, 'POST', '/v1/envs/dev/components', { name: 'counter' })
    await upload(first.http, 'PATCH', `/v1/components/${component.componentId}`, {})
    assert.equal((await as(alice.token, 'PUT', `${first.http}/v1/links`, {
      source_id: component.componentId, target: 'keyvalue-provider', wit_namespace: 'wasi', wit_package: 'keyvalue', interfaces: ['store'],
    })).status, 200)
    for (const n of [1, 2]) {
      const res = await as(alice.token, 'POST', `${first.http}/v1/components/${component.componentId}/invoke-and-await?function=increment`, { params: [] })
      assert.deepEqual(res.body.result.value, [n])
    }
    const scaled = await as(alice.token, 'POST', `${first.http}/v1/components/${component.componentId}/scale`, { instances: 2 })
    assert.equal(scaled.status, 200)
    const doomed = await as(alice.token, 'POST', `${first.http}/v1/api-keys`, { name: 'doomed' })
    assert.equal((await as(alice.token, 'DELETE', `${first.http}/v1/api-keys/${doomed.body.id}`)).status, 204)
    const team = await as(alice.token, 'POST', `${first.http}/v1/teams`, { name: 'Durable team' })
    assert.equal(team.status, 201)
    const switched = await as(alice.token, 'POST', `${first.http}/v1/auth/switch-team`, { team_id: team.body.id })
    assert.equal((await as(switched.body.token, 'POST', `${first.http}/v1/teams/${team.body.id}/members`, { email: bob.email })).status, 201)

    // A retained message a device published with QoS 1: the PUBACK came after it was stored.
    const device = await connect(first.mqtt, { username: 'device', password: adminKey })
    await device.client.publishAsync('home/hall/light', 'on', { qos: 1, retain: true })

    first.child.kill('SIGKILL')
    assert.equal((await first.exited).signal, 'SIGKILL')

    const second = await start(dataDir)
    assert.ok(!second.stdout.join('\n').includes('Admin API key'), 'the admin key is printed on the first start only')
    // Logins, the old JWT (same secret), the API keys (the admin's too) and the revocation all held.
    const login = await request('POST', `${second.http}/v1/auth/login`, { email: alice.email, password: alice.password })
    assert.equal(login.status, 200)
    assert.equal(login.body.user_id, alice.user_id)
    assert.equal((await as(alice.token, 'GET', `${second.http}/v1/teams`)).status, 200)
    assert.equal((await withKey(key.body.key, 'GET', `${second.http}/api/actors`)).status, 200)
    assert.equal((await withKey(adminKey, 'GET', `${second.http}/api/actors`)).status, 200)
    assert.equal((await withKey(doomed.body.key, 'GET', `${second.http}/api/actors`)).status, 401)
    const members = await as(switched.body.token, 'GET', `${second.http}/v1/teams/${team.body.id}/members`)
    assert.deepEqual(members.body.map((m: { email: string, role: string }) => [m.email, m.role]).sort(),
      [[alice.email, 'owner'], [bob.email, 'member']].sort())
    // A component uploaded (two revisions), linked, scaled and used before the kill: its bytes, revisions, link, its
    // two instances (running before the API answers) and the keyvalue data it wrote are all back.
    const actor = await as(alice.token, 'GET', `${second.http}/api/actors/${component.componentId}`)
    assert.equal(actor.body.state, 'running', 'the scale acknowledged before the kill was restored')
    const revision1 = await fetch(`${second.http}/v1/components/${component.componentId}/revisions/1/wasm`, { headers: { authorization: `Bearer ${alice.token}` } })
    assert.ok(Buffer.from(await revision1.arrayBuffer()).equals(counterBytes))
    const third = await as(alice.token, 'POST', `${second.http}/v1/components/${component.componentId}/invoke-and-await?function=increment`, { params: [] })
    assert.deepEqual(third.body.result.value, [3], 'the count kept in the keyvalue provider survived')
    assert.equal((await get(`${second.http}/api/health`)).status, 200)
    const subscriber = await connect(second.mqtt, { username: 'watcher', password: adminKey })
    await subscriber.subscribe('home/#')
    const light = await subscriber.next((m) => m.topic === 'home/hall/light', { what: 'the retained message from before the kill' })
    assert.deepEqual([light.payload.toString(), light.retain], ['on', true])
    await subscriber.close()
    await device.close().catch(() => undefined)
    second.child.kill('SIGTERM')
    assert.equal((await second.exited).code, 0)
  })
})
