/**
 * A run-time spawn is acknowledged state: what REST, chat (REST and MQTT) spawned is back after a restart on the same
 * data dir with its id, name, kind, team and options, in the state its user last asked for; what was deleted (by any
 * door, or with its team) is not. A saved actor that cannot come back is logged and kept for the next start.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { startColony, type TestColony, type TestColonyOptions } from '../helpers/runtime.js'
import { crashyKind, starts, TEST_KINDS } from '../helpers/kinds.js'
import { connect } from '../helpers/mqtt.js'
import { get, request, type JsonResponse } from '../helpers/http.js'
import { as } from '../helpers/identity.js'
import { createTeam, roleMatrix, switchTeam } from '../helpers/teams.js'
import { create, fixture, scale } from '../helpers/components.js'
import type { ActorInfo, ActorKind } from '../../src/actor/types.js'

/** A test kind that answers every chat line with the options it was spawned with. */
const optionsKind: ActorKind<Record<string, unknown>> = {
  kind: 'options-echo',
  agentType: 'test',
  spawnable: true,
  create: (_ctx, options) => ({ chat: () => JSON.stringify(options) }),
}
const KINDS = [...TEST_KINDS, optionsKind] as ActorKind<never>[]

/** Sends a chat line over REST; once it is accepted (202), resolves with a promise of the reply (matched by `inReplyTo`). */
async function send (colony: TestColony, to: string, content: string): Promise<{ reply: Promise<string> }> {
  type Line = { inReplyTo?: string, content: string }
  const seen: Line[] = []
  let onLine: (line: Line) => void = (line) => { seen.push(line) }
  const off = colony.rt.broker.bus.subscribe('agents/+/chat', (m) => { onLine(JSON.parse(m.payload.toString('utf8')) as Line) })
  const res = await request('POST', `${colony.rt.urls.http}/api/chat`, { to, content })
  assert.equal(res.status, 202, JSON.stringify(res.body))
  const reply = new Promise<string>((resolve) => {
    onLine = (line) => {
      if (line.inReplyTo !== res.body.id) return
      off()
      resolve(line.content)
    }
    for (const line of seen) onLine(line)
  })
  return { reply }
}

async function chat (colony: TestColony, to: string, content: string): Promise<string> {
  return await (await send(colony, to, content)).reply
}

/** Resolves once the actor's retained spawn announcement is cleared (it was deleted). */
function deleted (colony: TestColony, id: string): Promise<void> {
  return new Promise((resolve) => {
    const off = colony.rt.broker.bus.subscribe(`agents/${id}/spawn`, (m) => {
      if (m.payload.length > 0) return
      off()
      resolve()
    })
  })
}

function spawnRest (colony: TestColony, body: Record<string, unknown>, token?: string): Promise<JsonResponse> {
  return request('POST', `${colony.rt.urls.http}/api/actors`, body, token === undefined ? {} : { authorization: `Bearer ${token}` })
}

/** What must be identical after a restart. */
function identityOf (a: ActorInfo): Record<string, unknown> {
  return { id: a.id, name: a.name, kind: a.kind, agentType: a.agentType, team: a.team, supervisor: a.supervisor, protected: a.protected }
}

describe('run-time spawns survive a restart', function () {
  this.timeout(60_000)
  let dir: string
  let colony: TestColony | undefined

  const start = async (options: TestColonyOptions = {}): Promise<TestColony> => {
    colony = await startColony({ kinds: KINDS, ...options, config: { data: { dir } } })
    return colony
  }
  const restart = async (options: TestColonyOptions = {}): Promise<TestColony> => {
    await colony?.close()
    colony = undefined
    return await start(options)
  }
  const savedIds = (c: TestColony): string[] => c.rt.identity.store.spawnedActors.all().map((r) => r.id)

  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'colony-spawned-')) })
  afterEach(async () => {
    await colony?.close()
    colony = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  it('REST, REST chat and MQTT chat spawns come back with id, name, kind, team and options; paused stays paused, stopped stays stopped and unstarted; deleted ones (REST, chat, MQTT command) do not', async () => {
    for (const name of ['paused-one', 'stopped-one']) starts.delete(name)
    let c = await start()
    const rest = await spawnRest(c, { kind: 'echo', name: 'by-rest' })
    assert.equal(rest.status, 201, JSON.stringify(rest.body))
    assert.match(await chat(c, 'main-actor', 'spawn crashy by-chat'), /^spawned by-chat \(test, id \S+\): running$/)
    const mqtt = await connect(c.rt.urls.mqtt)
    await mqtt.subscribe('agents/main-actor/chat')
    await mqtt.publish('io/chat', { from: 'me', content: '@main-actor spawn echo by-mqtt' })
    await mqtt.next((m) => typeof m.json?.content === 'string' && (m.json.content as string).startsWith('spawned by-mqtt'), { what: 'the MQTT spawn reply' })
    const withOptions = await c.rt.system.spawn('options-echo', { name: 'with-options', options: { greeting: 'hi', n: 3, nested: { ok: true } } })
    assert.equal(withOptions.state, 'running')

    const spawnCrashy = async (name: string): Promise<string> => {
      const res = await spawnRest(c, { kind: 'crashy', name })
      assert.equal(res.status, 201, JSON.stringify(res.body))
      return res.body.id as string
    }
    const paused = await spawnCrashy('paused-one')
    assert.equal((await request('POST', `${c.rt.urls.http}/api/actors/${paused}/pause`)).status, 200)
    const stopped = await spawnCrashy('stopped-one')
    assert.equal(await chat(c, 'main-actor', 'stop stopped-one'), 'stopped-one is stopped')
    const resumed = await spawnCrashy('resumed-one')
    await mqtt.subscribe(`agents/${resumed}/status`)
    for (const command of ['pause', 'resume']) {
      const from = mqtt.mark
      await mqtt.publish(`agents/${resumed}/commands`, { command })
      await mqtt.next((m) => m.topic === `agents/${resumed}/status` && m.json?.state === (command === 'pause' ? 'paused' : 'running'), { from, what: command })
    }
    const byRestDelete = await spawnCrashy('gone-rest')
    assert.equal((await request('DELETE', `${c.rt.urls.http}/api/actors/${byRestDelete}`)).status, 200)
    const byChatDelete = await spawnCrashy('gone-chat')
    assert.equal(await chat(c, 'main-actor', 'delete gone-chat'), 'gone-chat deleted')
    const byMqttDelete = await spawnCrashy('gone-mqtt')
    const gone = deleted(c, byMqttDelete)
    await mqtt.publish(`agents/${byMqttDelete}/commands`, { command: 'delete' })
    await gone
    await mqtt.close()

    const kept = ['by-rest', 'by-chat', 'by-mqtt', 'with-options', 'paused-one', 'stopped-one', 'resumed-one']
    const before = new Map(c.rt.system.list().filter((a) => kept.includes(a.name)).map((a) => [a.name, a]))
    assert.equal(before.size, kept.length)
    assert.deepEqual(savedIds(c).sort(), [...before.values()].map((a) => a.id).sort(), 'one row per kept actor, none for system actors')
    assert.equal(starts.get('stopped-one'), 1)
    assert.equal(starts.get('paused-one'), 1)

    c = await restart()
    const after = new Map(c.rt.system.list().map((a) => [a.name, a]))
    for (const name of kept) {
      const a = after.get(name)
      assert.ok(a !== undefined, `${name} is back`)
      assert.deepEqual(identityOf(a), identityOf(before.get(name) as ActorInfo), name)
    }
    assert.deepEqual(kept.map((n) => after.get(n)?.state),
      ['running', 'running', 'running', 'running', 'paused', 'stopped', 'running'])
    assert.equal(starts.get('stopped-one'), 1, 'a stopped actor is listed again but never started')
    assert.equal(starts.get('paused-one'), 2, 'a paused actor starts, then waits paused')
    for (const name of ['gone-rest', 'gone-chat', 'gone-mqtt']) assert.equal(after.has(name), false, `${name} stays deleted`)
    for (const id of [byRestDelete, byChatDelete, byMqttDelete]) assert.equal((await get(`${c.rt.urls.http}/api/actors/${id}`)).status, 404)
    assert.ok(c.logs.some((l) => l.msg === 'spawned actors restored' && l.restored === kept.length && l.failed === 0))

    // They work: the echo answers, the options are the ones it was spawned with, the paused one holds its mail.
    assert.equal(await chat(c, 'by-mqtt', 'still here'), 'still here')
    assert.deepEqual(JSON.parse(await chat(c, 'with-options', 'options?')), { greeting: 'hi', n: 3, nested: { ok: true } })
    const held = await send(c, 'paused-one', 'wake')
    const { body: waiting } = await get(`${c.rt.urls.http}/api/actors/${paused}`)
    assert.deepEqual([waiting.state, waiting.mailboxDepth], ['paused', 1], 'the line waits in the mailbox')
    assert.equal((await request('POST', `${c.rt.urls.http}/api/actors/${paused}/resume`)).status, 200)
    assert.equal(await held.reply, 'ok wake')
    // A stopped actor can only be deleted, and then it stays deleted.
    assert.equal((await request('POST', `${c.rt.urls.http}/api/actors/${stopped}/resume`)).status, 409)
    assert.equal((await request('DELETE', `${c.rt.urls.http}/api/actors/${stopped}`)).status, 200)

    c = await restart()
    assert.equal(c.rt.system.get(stopped), undefined)
    assert.equal(c.rt.system.get(paused)?.state, 'running', 'resumed before the last restart')
    assert.equal(savedIds(c).length, kept.length - 1)
  })

  it('team ownership survives: members see and steer it, other teams get 404; a deleted team\'s actors are forgotten, also when it was deleted while Colony was down', async () => {
    let c = await start()
    let base = c.rt.urls.http
    const m = await roleMatrix(base, 'Restore team')
    const owned = await spawnRest(c, { kind: 'echo', name: 'team-owned' }, m.owner.teamToken)
    assert.equal(owned.status, 201, JSON.stringify(owned.body))
    assert.equal(owned.body.team, m.teamId)
    // A team deleted while Colony runs: its actors go at once and are forgotten before the answer.
    const doomedTeam = await createTeam(base, m.owner.token, 'Doomed team')
    const doomedToken = await switchTeam(base, m.owner.token, doomedTeam)
    const doomed = await spawnRest(c, { kind: 'echo', name: 'doomed' }, doomedToken)
    assert.equal(doomed.status, 201)
    assert.equal((await as(doomedToken, 'DELETE', `${base}/v1/teams/${doomedTeam}`)).status, 204)
    assert.equal(savedIds(c).includes(doomed.body.id as string), false)
    // A team deleted while Colony is down (an admin's SQL, a restore of an older backup of the runtime).
    const downTeam = await createTeam(base, m.owner.token, 'Down team')
    const down = await spawnRest(c, { kind: 'echo', name: 'down-team-actor' }, await switchTeam(base, m.owner.token, downTeam))
    assert.equal(down.status, 201)
    await colony?.close()
    colony = undefined
    const db = new Database(join(dir, 'colony.db'))
    db.prepare('UPDATE teams SET deleted_at = ? WHERE id = ?').run(Date.now(), downTeam)
    db.close()

    c = await start()
    base = c.rt.urls.http
    const id = owned.body.id as string
    for (const token of [m.owner.teamToken, m.member.teamToken, m.admin.teamToken]) {
      const res = await as(token, 'GET', `${base}/api/actors/${id}`)
      assert.equal(res.status, 200)
      assert.equal(res.body.team, m.teamId)
    }
    const pausedByMember = await as(m.member.teamToken, 'POST', `${base}/api/actors/${id}/pause`)
    assert.equal(pausedByMember.status, 200)
    assert.equal(pausedByMember.body.state, 'paused')
    for (const [method, path] of [['GET', ''], ['POST', '/resume'], ['DELETE', '']] as const) {
      assert.equal((await as(m.outsider.token, method, `${base}/api/actors/${id}${path}`)).status, 404, `${method} ${path}`)
    }
    assert.equal(c.rt.system.get('doomed'), undefined)
    assert.equal(c.rt.system.get(down.body.id as string), undefined)
    assert.deepEqual(savedIds(c), [id], 'the deleted teams\' rows are gone')
    assert.ok(c.logs.some((l) => l.msg === 'a spawned actor\'s team no longer exists: forgotten' && l.actorId === down.body.id))
  })

  it('a saved actor whose kind is gone or whose start fails is logged and kept; the rest come back; a name taken again meanwhile supersedes it', async () => {
    let c = await start()
    const vanishing = await c.rt.system.spawn('crashy', { name: 'will-vanish' })
    const superseded = await c.rt.system.spawn('crashy', { name: 'superseded' })
    const failing = await c.rt.system.spawn('crashy', { name: 'fails-start', options: { failStart: true } })
    assert.equal(failing.state, 'failed')
    const fine = await c.rt.system.spawn('echo', { name: 'fine' })

    // The crashy kind is not there at this start (a plugin removed, a version that dropped it).
    c = await restart({ kinds: [optionsKind] as ActorKind<never>[] })
    assert.equal(c.rt.system.get(fine.id)?.state, 'running')
    for (const a of [vanishing, superseded, failing]) {
      assert.equal(c.rt.system.get(a.id), undefined)
      assert.ok(c.logs.some((l) => l.msg === 'a spawned actor could not be restored' && l.actorId === a.id && l.kind === 'crashy'), a.name)
    }
    assert.ok(c.logs.some((l) => l.msg === 'spawned actors restored' && l.restored === 1 && l.failed === 3))
    assert.deepEqual(savedIds(c).sort(), [vanishing.id, superseded.id, failing.id, fine.id].sort(), 'kept for the next start')
    // The registry let the name be taken again: the newer, acknowledged actor wins it.
    const taker = await c.rt.system.spawn('options-echo', { name: 'superseded', options: { v: 2 } })

    c = await restart({ kinds: [crashyKind, optionsKind] as ActorKind<never>[] })
    assert.equal(c.rt.system.get('will-vanish')?.id, vanishing.id, 'back, same id, once its kind is')
    assert.equal(c.rt.system.get('will-vanish')?.state, 'running')
    assert.equal(c.rt.system.get('superseded')?.id, taker.id)
    assert.equal(c.rt.system.get('superseded')?.kind, 'options-echo')
    assert.equal(c.rt.system.get(superseded.id), undefined)
    const restoredFailing = c.rt.system.get(failing.id)
    assert.ok(restoredFailing !== undefined && restoredFailing.state !== 'running', 'back, and its supervisor handles the failing start')
    assert.ok(c.logs.some((l) => l.msg === 'a restored actor failed to start; its supervisor takes over' && l.actorId === failing.id))
    assert.equal(savedIds(c).length, 4)
  })

  it('components\' actors are restored by their scale only, never twice; run-time spawns come back first', async () => {
    let c = await start()
    const hello = await create(c.rt.urls.http, 'hello', await fixture('hello'))
    assert.equal((await scale(c.rt.urls.http, hello, 1)).status, 200)
    const spawned = await spawnRest(c, { kind: 'echo', name: 'next-to-a-component' })
    assert.equal(spawned.status, 201)
    assert.deepEqual(savedIds(c), [spawned.body.id])

    c = await restart()
    assert.equal(c.rt.system.get(hello)?.state, 'running')
    assert.equal(c.rt.system.get(spawned.body.id as string)?.state, 'running')
    assert.ok(c.logs.some((l) => l.msg === 'component scales restored' && l.restored === 1))
    assert.ok(c.logs.some((l) => l.msg === 'spawned actors restored' && l.restored === 1 && l.failed === 0))
    assert.ok(!c.logs.some((l) => l.level !== undefined && (l.level as number) >= 40 && /restore/.test(String(l.msg))), 'no restore warnings')
  })

  it('1 000 saved actors come back before the listeners open, in spawn order', async function () {
    this.timeout(120_000)
    let c = await start()
    const ids: string[] = []
    for (let i = 0; i < 1000; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, (_, j) => c.rt.system.spawn('echo', { name: `bulk-${i + j}` })))
      ids.push(...batch.map((a) => a.id))
    }
    c = await restart()
    const back = c.rt.system.list().filter((a) => a.name.startsWith('bulk-'))
    assert.deepEqual(back.map((a) => a.id), ids)
    assert.ok(back.every((a) => a.state === 'running'))
    const report = c.logs.find((l) => l.msg === 'spawned actors restored')
    assert.equal(report?.restored, 1000)
    assert.equal(typeof report?.ms, 'number')
    assert.equal((await get(`${c.rt.urls.http}/api/health`)).status, 200)
  })
})
