import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WebSocket } from 'ws'
import { killAll, startOnDataDir, type CliRun } from '../helpers/cli.js'
import { signup } from '../helpers/identity.js'
import { call } from '../helpers/components.js'
import { startColony } from '../helpers/runtime.js'
import { Store } from '../../src/store/index.js'

type Running = CliRun & { http: string }

/**
 * A capsule survives its host: Colony is `kill -9`ed (the sandbox's processes die with it, `--die-with-parent`)
 * and started again on the same data dir. The capsule the API acknowledged is there, running again with its files;
 * a paused one comes back hibernated, and resumes with its files; nothing of the sandbox is left behind on the host.
 */
describe('capsules survive kill -9 of Colony', () => {
  let dataDir: string
  beforeEach(() => { dataDir = mkdtempSync(join(tmpdir(), 'colony-capsules-kill-')) })
  afterEach(() => {
    killAll()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('running capsules run again with their files; a paused one is hibernated and resumes; chat drives them', async function () {
    this.timeout(90_000)
    let colony: Running = await startOnDataDir(dataDir)
    const alice = await signup(colony.http, 'alice')
    const c = { token: alice.token }
    const create = async (): Promise<string> => {
      const res = await call('POST', `${colony.http}/v1/capsules`, {}, c)
      assert.equal(res.status, 201, JSON.stringify(res.body))
      return res.body.id
    }
    const sh = async (id: string, script: string): Promise<any> => {
      const res = await call('POST', `${colony.http}/v1/capsules/${id}/exec`, { cmd: '/bin/sh', args: ['-c', script] }, c)
      assert.equal(res.status, 200, JSON.stringify(res.body))
      return res.body
    }
    const running = await create()
    const paused = await create()
    await sh(running, 'echo kept > /home/user/note')
    await sh(paused, 'echo kept-too > /home/user/note')
    assert.equal((await call('POST', `${colony.http}/v1/capsules/${paused}/pause`, undefined, c)).body.status, 'paused')

    // A browser cannot set headers on a WebSocket: Wrenn's first message authenticates it.
    const stream = async (first: unknown): Promise<any[]> => {
      const ws = new WebSocket(`${colony.http.replace('http', 'ws')}/v1/capsules/${running}/exec/stream`)
      const frames: any[] = []
      ws.on('message', (d) => frames.push(JSON.parse((d as Buffer).toString('utf8'))))
      const closed = new Promise((resolve) => ws.once('close', resolve))
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
      ws.send(JSON.stringify(first))
      ws.send(JSON.stringify({ type: 'start', cmd: 'echo', args: ['authed'] }))
      await closed
      return frames
    }
    const authed = await stream({ type: 'auth', token: alice.token })
    assert.deepEqual(authed.filter((f) => f.type !== 'start'), [{ type: 'stdout', data: 'authed\n' }, { type: 'exit', exit_code: 0 }])
    assert.deepEqual(await stream({ type: 'auth', token: 'wrong' }), [{ type: 'error', data: 'authentication failed' }])

    // Chat: the capsule is an actor, and main-actor creates capsules.
    const chat = await call('POST', `${colony.http}/api/chat`, { to: running, content: 'exec cat /home/user/note' }, c)
    assert.equal(chat.status, 202, JSON.stringify(chat.body))

    colony.child.kill('SIGKILL')
    assert.equal((await colony.exited).signal, 'SIGKILL')
    colony = await startOnDataDir(dataDir)

    const after = await call('GET', `${colony.http}/v1/capsules/${running}`, undefined, c)
    assert.equal(after.body.status, 'running', JSON.stringify(after.body))
    assert.equal((await sh(running, 'cat /home/user/note')).stdout, 'kept\n')
    const wasPaused = await call('GET', `${colony.http}/v1/capsules/${paused}`, undefined, c)
    assert.equal(wasPaused.body.status, 'hibernated')
    assert.match(wasPaused.body.reason, /restarted/)
    assert.equal((await call('POST', `${colony.http}/v1/capsules/${paused}/resume`, undefined, c)).body.status, 'running')
    assert.equal((await sh(paused, 'cat /home/user/note')).stdout, 'kept-too\n')

    for (const id of [running, paused]) assert.equal((await call('DELETE', `${colony.http}/v1/capsules/${id}`, undefined, c)).status, 204)
    assert.deepEqual((await call('GET', `${colony.http}/v1/capsules`, undefined, c)).body, [])
    for (const id of [running, paused]) {
      assert.equal(existsSync(join(dataDir, 'capsules', id)), false, 'its files are gone')
      for (const cg of [`/sys/fs/cgroup/pids/colony-capsules/${id}`, `/sys/fs/cgroup/colony-capsules/${id}`]) assert.equal(existsSync(cg), false, `${cg} is gone`)
    }
    colony.child.kill('SIGTERM')
    await colony.exited
  })

  it('a capsule Colony was still starting when it stopped comes back as error, saying why', async () => {
    let colony = await startColony({ config: { data: { dir: dataDir } } })
    await colony.close()
    const store = Store.open({ file: join(dataDir, 'colony.db'), synchronous: 'normal' })
    const spec = { template: 'minimal', vcpus: 1, memoryMb: 256, timeoutSec: 0, network: false, env: {}, layers: [] }
    store.capsules.insert({ id: 'cl-startingwhenstopped0000000', teamId: null, status: 'pending', spec: JSON.stringify(spec), reason: null, createdAtMs: 1, startedAtMs: null, lastActiveAtMs: null, lastUpdatedMs: 1 })
    store.close()
    colony = await startColony({ config: { data: { dir: dataDir } } })
    try {
      const row = colony.rt.identity.store.capsules.get('cl-startingwhenstopped0000000')
      assert.deepEqual({ status: row?.status, reason: row?.reason }, { status: 'error', reason: 'Colony stopped while the capsule was starting' })
    } finally {
      await colony.close()
    }
  })
})
