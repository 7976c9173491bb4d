import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAll, startOnDataDir } from '../helpers/cli.js'
import { signup } from '../helpers/identity.js'
import { call } from '../helpers/components.js'
import { Receiver } from '../helpers/receiver.js'

/**
 * The outbox survives `kill -9`: a delivery whose attempt was in flight when Colony died (the receiver held the
 * request unanswered) is sent again after the restart, with the same X-Wrenn-Delivery id, so the receiver can
 * tell it is the same one.
 */
describe('channel deliveries survive kill -9 of Colony', () => {
  let dataDir: string
  let receiver: Receiver
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'colony-channels-kill-'))
    receiver = await new Receiver().start()
  })
  afterEach(async () => {
    killAll()
    await receiver.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('a delivery pending at kill -9 is sent after the restart, with the same delivery id', async function () {
    this.timeout(60_000)
    const colony = await startOnDataDir(dataDir)
    const alice = await signup(colony.http, 'alice')
    const c = { token: alice.token }
    const ch = await call('POST', `${colony.http}/v1/channels`, { name: 'lifecycle', provider: 'webhook', config: { url: `${receiver.url}/in` }, events: ['actor.status'] }, c)
    assert.equal(ch.status, 201, JSON.stringify(ch.body))

    receiver.hold = true
    const spawned = await call('POST', `${colony.http}/api/actors`, { kind: 'echo', name: 'e1' }, c)
    assert.equal(spawned.status, 201, JSON.stringify(spawned.body))
    const first = await receiver.next()
    const id = first.headers['x-wrenn-delivery'] as string
    assert.equal(first.json.event, 'actor.status')
    assert.equal(first.json.team_id, alice.team_id)

    colony.child.kill('SIGKILL')
    assert.equal((await colony.exited).signal, 'SIGKILL')
    const before = receiver.requests.length
    receiver.hold = false
    await startOnDataDir(dataDir)
    const again = await receiver.next((q) => q.index >= before && q.headers['x-wrenn-delivery'] === id, 20_000, 'the pending delivery, again')
    assert.equal(again.body, first.body, 'the same body')
    assert.ok(Number(again.headers['x-wrenn-timestamp']) >= Number(first.headers['x-wrenn-timestamp']))
  })
})
