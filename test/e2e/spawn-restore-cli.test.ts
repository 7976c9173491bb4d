/**
 * A spawn the API answered survives kill -9 of the real CLI: the actor is back with the same id, name, kind and team,
 * in the state its user left it; what was deleted (REST, MQTT command) before the kill is not.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAll, startOnDataDir } from '../helpers/cli.js'
import { as, signup } from '../helpers/identity.js'
import { connect } from '../helpers/mqtt.js'
import { createKey } from '../helpers/teams.js'

describe('run-time spawns survive kill -9', () => {
  let dataDir: string

  beforeEach(() => { dataDir = mkdtempSync(join(tmpdir(), 'colony-spawn-kill-')) })
  afterEach(() => {
    killAll()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('REST and MQTT chat spawns acknowledged before the kill are back with id, name, kind, team and state; deleted ones are not', async function () {
    this.timeout(30_000)
    const first = await startOnDataDir(dataDir)
    const alice = await signup(first.http, 'alice')
    const bob = await signup(first.http, 'bob')
    const spawn = async (name: string): Promise<string> => {
      const res = await as(alice.token, 'POST', `${first.http}/api/actors`, { kind: 'echo', name })
      assert.equal(res.status, 201, JSON.stringify(res.body))
      assert.equal(res.body.team, alice.team_id)
      return res.body.id as string
    }
    const survivor = await spawn('survivor')
    const paused = await spawn('paused-survivor')
    assert.equal((await as(alice.token, 'POST', `${first.http}/api/actors/${paused}/pause`)).status, 200)
    const restDeleted = await spawn('rest-deleted')
    assert.equal((await as(alice.token, 'DELETE', `${first.http}/api/actors/${restDeleted}`)).status, 200)

    // Over MQTT with alice's API key: a chat spawn (acknowledged by main-actor's reply) and a delete command.
    const key = await createKey(first.http, alice.token)
    const mqtt = await connect(first.mqtt, { username: 'alice', password: key.key as string })
    const mqttDeleted = await spawn('mqtt-deleted')
    await mqtt.subscribe('agents/main-actor/chat', `agents/${mqttDeleted}/status`)
    await mqtt.next((m) => m.topic === `agents/${mqttDeleted}/status` && m.json?.state === 'running', { what: 'the retained status' })
    let from = mqtt.mark
    await mqtt.publish(`agents/${mqttDeleted}/commands`, { command: 'delete' })
    // (The cleared retained status reaches admins only: the actor, and so its team, no longer exists.)
    await mqtt.next((m) => m.topic === `agents/${mqttDeleted}/status` && m.json?.state === 'stopped', { from, what: 'the stop of the delete' })
    assert.equal((await as(alice.token, 'GET', `${first.http}/api/actors/${mqttDeleted}`)).status, 404, 'deleted')
    from = mqtt.mark
    await mqtt.publish('io/chat', { from: 'alice', content: '@main-actor spawn echo chatted' })
    const reply = await mqtt.next((m) => m.topic === 'agents/main-actor/chat' && String(m.json?.content).startsWith('spawned chatted'), { from, what: 'the spawn reply' })
    const chatted = /id (\S+)\)/.exec(String(reply.json.content))?.[1] ?? ''
    await mqtt.close()

    // Killed right after the last answer: nothing may depend on a clean shutdown.
    first.child.kill('SIGKILL')
    assert.equal((await first.exited).signal, 'SIGKILL')

    const second = await startOnDataDir(dataDir)
    const expected: Array<[string, string, string]> = [[survivor, 'survivor', 'running'], [paused, 'paused-survivor', 'paused'], [chatted, 'chatted', 'running']]
    for (const [id, name, state] of expected) {
      const res = await as(alice.token, 'GET', `${second.http}/api/actors/${id}`)
      assert.equal(res.status, 200, `${name} is back`)
      assert.deepEqual([res.body.id, res.body.name, res.body.kind, res.body.team, res.body.state], [id, name, 'echo', alice.team_id, state])
    }
    for (const id of [restDeleted, mqttDeleted]) assert.equal((await as(alice.token, 'GET', `${second.http}/api/actors/${id}`)).status, 404)
    assert.equal((await as(bob.token, 'GET', `${second.http}/api/actors/${survivor}`)).status, 404, 'another team still cannot see it')
    const bobList = await as(bob.token, 'GET', `${second.http}/api/actors`)
    assert.equal(bobList.body.some((a: { id: string }) => [survivor, paused, chatted].includes(a.id)), false)
    second.child.kill('SIGTERM')
    assert.equal((await second.exited).code, 0)
  })
})
